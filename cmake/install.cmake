# What `cmake --install` puts where, and the Debian packages CPack builds
# from it (`cpack -G DEB` in the build directory; tests/packages_test.cc
# builds and inspects them):
#   storenode-fogd    the fog daemon, its unit and the store broker's unit,
#                     /etc/storenode/fog.toml, the system users (sysusers.d)
#   storenode-ledger  ledger-sink, its unit, /etc/storenode/ledger-sink.toml,
#                     its system user
#   storenode-tools   storectl and pos-sim
#   libstorenode-edge1     libstorenode-edge.so.1, the till library's C ABI
#   libstorenode-edge-dev  storenode/edge_c.h and storenode/till.h (its C++
#                          face), the .so link, storenode-edge.pc and the
#                          CMake package (find_package(storenode):
#                          storenode::edge_c, storenode::edge)
# Files under /etc are conffiles: an upgrade never overwrites a config the
# operator changed. The units name the installed binaries (the templates in
# firmware-configs/systemd/ name /usr/local/bin, for a hand install).
# Installing starts nothing: the fog needs its store's config and keys
# first (docs/DEPLOY.md, "Packages").
include(GNUInstallDirs)

set(SN_SYSTEMD_UNIT_DIR lib/systemd/system)
set(SN_SYSUSERS_DIR lib/sysusers.d)
set(SN_UNITS_OUT ${PROJECT_BINARY_DIR}/packaging)
set(SN_MAINT ${PROJECT_SOURCE_DIR}/packaging/debian)  # conffiles, scripts, triggers

# unit NAME BINARY DIR COMPONENT: the template with /usr/local/bin replaced
# by where the package puts BINARY (under /usr: the units are the
# packages'; a hand install uses the templates).
function(sn_install_unit name binary dir component)
  file(READ ${PROJECT_SOURCE_DIR}/firmware-configs/systemd/${name}.service text)
  string(REPLACE "/usr/local/bin" "/usr/${CMAKE_INSTALL_${dir}}" text "${text}")
  file(WRITE ${SN_UNITS_OUT}/${name}.service "${text}")
  install(FILES ${SN_UNITS_OUT}/${name}.service DESTINATION ${SN_SYSTEMD_UNIT_DIR}
          COMPONENT ${component})
endfunction()

# The system users, as the units' comments name them.
file(WRITE ${SN_UNITS_OUT}/storenode-fogd.sysusers
     "u storenode - \"storenode fog daemon\" /var/lib/storenode /usr/sbin/nologin\n"
     "u storenode-broker - \"storenode store broker\" /var/lib/storenode-broker /usr/sbin/nologin\n")
file(WRITE ${SN_UNITS_OUT}/storenode-ledger.sysusers
     "u storenode-ledger - \"storenode ledger worker\" /var/lib/storenode-ledger /usr/sbin/nologin\n")

install(TARGETS storenode-fogd RUNTIME DESTINATION ${CMAKE_INSTALL_SBINDIR} COMPONENT fogd)
sn_install_unit(storenode-fogd storenode-fogd SBINDIR fogd)
install(FILES ${PROJECT_SOURCE_DIR}/firmware-configs/systemd/storenode-mosquitto.service
        DESTINATION ${SN_SYSTEMD_UNIT_DIR} COMPONENT fogd)
install(FILES ${PROJECT_SOURCE_DIR}/firmware-configs/fog.toml
        DESTINATION /etc/storenode COMPONENT fogd)
install(FILES ${SN_UNITS_OUT}/storenode-fogd.sysusers DESTINATION ${SN_SYSUSERS_DIR}
        RENAME storenode-fogd.conf COMPONENT fogd)

install(TARGETS ledger-sink RUNTIME DESTINATION ${CMAKE_INSTALL_SBINDIR} COMPONENT ledger)
sn_install_unit(storenode-ledger-sink ledger-sink SBINDIR ledger)
install(FILES ${PROJECT_SOURCE_DIR}/firmware-configs/ledger-sink.toml
        DESTINATION /etc/storenode COMPONENT ledger)
install(FILES ${SN_UNITS_OUT}/storenode-ledger.sysusers DESTINATION ${SN_SYSUSERS_DIR}
        RENAME storenode-ledger.conf COMPONENT ledger)

install(TARGETS storectl pos-sim RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT tools)

# The till library's C ABI, for POS software in any language.
set(SN_PACKAGES fogd:storenode-fogd ledger:storenode-ledger tools:storenode-tools)
if(TARGET storenode_edge)
  include(CMakePackageConfigHelpers)
  set_target_properties(storenode_edge PROPERTIES EXPORT_NAME edge_c)
  install(TARGETS storenode_edge EXPORT storenodeTargets
          LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT libedge NAMELINK_COMPONENT libedgedev
          PUBLIC_HEADER DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/storenode COMPONENT libedgedev
          INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
  install(TARGETS storenode_edge_cxx EXPORT storenodeTargets COMPONENT libedgedev)
  install(FILES ${PROJECT_SOURCE_DIR}/edge/include/storenode/till.h
          DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/storenode COMPONENT libedgedev)
  set(SN_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/storenode)
  install(EXPORT storenodeTargets NAMESPACE storenode:: DESTINATION ${SN_CMAKE_DIR}
          COMPONENT libedgedev)
  configure_package_config_file(${PROJECT_SOURCE_DIR}/packaging/storenodeConfig.cmake.in
                                ${SN_UNITS_OUT}/storenodeConfig.cmake INSTALL_DESTINATION ${SN_CMAKE_DIR})
  write_basic_package_version_file(${SN_UNITS_OUT}/storenodeConfigVersion.cmake
                                   COMPATIBILITY SameMajorVersion)
  install(FILES ${SN_UNITS_OUT}/storenodeConfig.cmake ${SN_UNITS_OUT}/storenodeConfigVersion.cmake
          DESTINATION ${SN_CMAKE_DIR} COMPONENT libedgedev)
  configure_file(${PROJECT_SOURCE_DIR}/packaging/pkgconfig/storenode-edge.pc.in
                 ${SN_UNITS_OUT}/storenode-edge.pc @ONLY)
  install(FILES ${SN_UNITS_OUT}/storenode-edge.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig
          COMPONENT libedgedev)
  list(APPEND SN_PACKAGES libedge:libstorenode-edge1 libedgedev:libstorenode-edge-dev)
endif()

# Each package's copyright and changelog (Debian policy 12.5 and 12.7).
find_program(SN_GZIP gzip REQUIRED)
foreach(pair ${SN_PACKAGES})
  string(REPLACE ":" ";" pair ${pair})
  list(GET pair 0 component)
  list(GET pair 1 PKG)
  set(VERSION ${PROJECT_VERSION})
  configure_file(${PROJECT_SOURCE_DIR}/packaging/debian/changelog.in
                 ${SN_UNITS_OUT}/${PKG}/changelog @ONLY)
  execute_process(COMMAND ${SN_GZIP} -9nf ${SN_UNITS_OUT}/${PKG}/changelog COMMAND_ERROR_IS_FATAL ANY)
  install(FILES ${SN_UNITS_OUT}/${PKG}/changelog.gz ${PROJECT_SOURCE_DIR}/packaging/debian/copyright
          DESTINATION ${CMAKE_INSTALL_DATAROOTDIR}/doc/${PKG} COMPONENT ${component})
endforeach()

# A manual page per binary (packaging/man/), gzipped like the changelogs.
foreach(entry storenode-fogd:8:fogd ledger-sink:8:ledger storectl:1:tools pos-sim:1:tools)
  string(REPLACE ":" ";" entry ${entry})
  list(GET entry 0 page)
  list(GET entry 1 section)
  list(GET entry 2 component)
  configure_file(${PROJECT_SOURCE_DIR}/packaging/man/${page}.${section}
                 ${SN_UNITS_OUT}/man/${page}.${section} @ONLY)
  execute_process(COMMAND ${SN_GZIP} -9nf ${SN_UNITS_OUT}/man/${page}.${section}
                  COMMAND_ERROR_IS_FATAL ANY)
  install(FILES ${SN_UNITS_OUT}/man/${page}.${section}.gz
          DESTINATION ${CMAKE_INSTALL_MANDIR}/man${section} COMPONENT ${component})
endforeach()

# --- Debian packages ------------------------------------------------------------

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME storenode)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "storenode maintainers <storenode@example.org>")
set(CPACK_PACKAGE_VENDOR "storenode")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEB_COMPONENT_INSTALL ON)
# Debug info stays in the build; the packages ship stripped binaries.
set(CPACK_STRIP_FILES ON)
set(CPACK_COMPONENTS_ALL fogd ledger tools)
if(TARGET storenode_edge)
  list(APPEND CPACK_COMPONENTS_ALL libedge libedgedev)
  set(CPACK_DEBIAN_LIBEDGE_PACKAGE_NAME libstorenode-edge1)
  set(CPACK_DEBIAN_LIBEDGE_PACKAGE_SECTION libs)
  # ldconfig by dpkg's trigger (Debian policy 8.1.1), not by scripts.
  set(CPACK_DEBIAN_LIBEDGE_PACKAGE_CONTROL_EXTRA "${SN_MAINT}/libedge/triggers")
  set(CPACK_DEBIAN_LIBEDGE_DESCRIPTION "storenode till library (C ABI)
The till side of storenode for POS software in any language: a signed,
hash-chained sales journal that keeps selling offline and syncs to the
store's fog.")
  set(CPACK_DEBIAN_LIBEDGEDEV_PACKAGE_NAME libstorenode-edge-dev)
  set(CPACK_DEBIAN_LIBEDGEDEV_PACKAGE_SECTION libdevel)
  set(CPACK_DEBIAN_LIBEDGEDEV_PACKAGE_DEPENDS "libstorenode-edge1 (= ${PROJECT_VERSION})")
  set(CPACK_DEBIAN_LIBEDGEDEV_DESCRIPTION "storenode till library (C ABI), development files
The C header storenode/edge_c.h, its C++ face storenode/till.h, a pkg-config
file and a CMake package (find_package(storenode), targets storenode::edge_c
and storenode::edge).")
  set(CPACK_DEBIAN_LIBEDGE_DEBUGINFO_PACKAGE OFF)
  set(CPACK_DEBIAN_LIBEDGEDEV_DEBUGINFO_PACKAGE OFF)
endif()
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_SECTION misc)
set(CPACK_DEBIAN_PACKAGE_HOMEPAGE "https://example.org/storenode")
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS ON)
# Maintainer scripts 0755, conffiles 0644, whatever the checkout says.
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)

foreach(c fogd ledger tools)
  string(TOUPPER ${c} C)
  set(CPACK_DEBIAN_${C}_DEBUGINFO_PACKAGE OFF)
endforeach()
set(CPACK_DEBIAN_FOGD_PACKAGE_NAME storenode-fogd)
set(CPACK_DEBIAN_FOGD_DESCRIPTION "storenode fog daemon for a retail store's back office
Receives the tills' signed journals over MQTT, keeps the store's read
models, runs the close-down and forwards each signed Z to the chain's
cloud ledger.")
set(CPACK_DEBIAN_FOGD_PACKAGE_DEPENDS "mosquitto (>= 2.0), adduser")
set(CPACK_DEBIAN_LEDGER_PACKAGE_DEPENDS "adduser")
set(CPACK_DEBIAN_FOGD_PACKAGE_CONTROL_EXTRA
    "${SN_MAINT}/fogd/conffiles;${SN_MAINT}/fogd/postinst;${SN_MAINT}/fogd/prerm;${SN_MAINT}/fogd/postrm")
set(CPACK_DEBIAN_LEDGER_PACKAGE_NAME storenode-ledger)
set(CPACK_DEBIAN_LEDGER_DESCRIPTION "storenode cloud ledger worker (ledger-sink)
A worker of the chain's cloud ledger: checks each store's signed Z,
stores it in SQLite or PostgreSQL and answers with an RFC 6962 receipt.")
set(CPACK_DEBIAN_LEDGER_PACKAGE_CONTROL_EXTRA
    "${SN_MAINT}/ledger/conffiles;${SN_MAINT}/ledger/postinst;${SN_MAINT}/ledger/prerm;${SN_MAINT}/ledger/postrm")
set(CPACK_DEBIAN_TOOLS_PACKAGE_NAME storenode-tools)
set(CPACK_DEBIAN_TOOLS_DESCRIPTION "storenode command-line tools (storectl, pos-sim)
storectl provisions stores and chains, imports catalogs, runs close-downs
and reports, and verifies journals, receipts and ledgers offline; pos-sim
simulates tills.")
include(CPack)
