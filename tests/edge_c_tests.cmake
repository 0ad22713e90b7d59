# The C ABI's consumers (tests/edge_c_test.cc drives them against a real fog):
# C99 programs that see only storenode/edge_c.h and libstorenode-edge.so.1,
# a C++17 one that sees only storenode/till.h (its C++ face), and the Python
# package sdk/python/storenode (ctypes, no build step).
enable_language(C)
add_executable(edge_c_consumer ${CMAKE_CURRENT_LIST_DIR}/edge_c_consumer.c)
set_target_properties(edge_c_consumer PROPERTIES C_STANDARD 99 C_STANDARD_REQUIRED ON
                                                 C_EXTENSIONS OFF)
target_compile_options(edge_c_consumer PRIVATE -pedantic)
target_link_libraries(edge_c_consumer PRIVATE storenode_edge)
# The same held to C99, exchanging currency (SN_EXCHANGE).
add_executable(edge_c_fx_consumer ${CMAKE_CURRENT_LIST_DIR}/edge_c_fx_consumer.c)
set_target_properties(edge_c_fx_consumer PROPERTIES C_STANDARD 99 C_STANDARD_REQUIRED ON
                                                    C_EXTENSIONS OFF)
target_compile_options(edge_c_fx_consumer PRIVATE -pedantic)
target_link_libraries(edge_c_fx_consumer PRIVATE storenode_edge)
# The C++ POS on storenode/till.h alone, held to C++17.
add_executable(edge_cpp_consumer ${CMAKE_CURRENT_LIST_DIR}/consumers/edge_cpp_consumer.cc)
set_target_properties(edge_cpp_consumer PROPERTIES CXX_STANDARD 17 CXX_EXTENSIONS OFF)
target_link_libraries(edge_cpp_consumer PRIVATE storenode::edge)
add_dependencies(sn_tests edge_c_consumer edge_c_fx_consumer edge_cpp_consumer storenode_edge)
target_compile_definitions(sn_tests PRIVATE
  SN_EDGE_LIB="$<TARGET_SONAME_FILE:storenode_edge>"
  SN_PYTHON_DIR="${PROJECT_SOURCE_DIR}/sdk/python")
# Under ASan (tools/test --sanitize) the library needs the ASan runtime first
# in python3's library list, which only LD_PRELOAD can do.
set(SN_ASAN_RUNTIME "")
if(STORENODE_SANITIZE MATCHES "address")
  execute_process(COMMAND ${CMAKE_CXX_COMPILER} -print-file-name=libasan.so
                  OUTPUT_VARIABLE SN_ASAN_RUNTIME OUTPUT_STRIP_TRAILING_WHITESPACE)
endif()
target_compile_definitions(sn_tests PRIVATE SN_ASAN_RUNTIME="${SN_ASAN_RUNTIME}")
