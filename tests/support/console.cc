#include "support/console.h"

#include <google/protobuf/util/json_util.h>

#include <catch2/catch.hpp>

#include "storenode/fog/console.h"
#include "storenode/schemas/console.pb.h"

namespace storenode::testing {

ConsoleStore::ConsoleStore(int tills, const std::string& console_extra,
                           const std::string& fog_extra, std::map<std::string, std::string> env)
    : store(tills) {
  port = FreePort();
  store.fog->env = std::move(env);
  store.fog->extra_config = fog_extra +
                            "\n[console]\nbind = \"127.0.0.1\"\nport = " + std::to_string(port) +
                            "\n" + console_extra + "\n[console.managers]\n" + kConsoleManager +
                            " = \"" + fog::HashPassword(kConsolePassword) + "\"\n";
  Status s = store.fog->Start();
  INFO(s.ToString() << "\n" << store.fog->Log());
  REQUIRE(s.ok());
}

std::unique_ptr<httplib::Client> ConsoleStore::Client() const {
  auto c = std::make_unique<httplib::Client>("127.0.0.1", port);
  c->set_read_timeout(20, 0);
  return c;
}

ConsoleSession ConsoleLogin(httplib::Client& client, const std::string& manager,
                            const std::string& password) {
  v1::ConsoleLogin login;
  login.set_manager(manager);
  login.set_password(password);
  std::string body;
  REQUIRE(google::protobuf::util::MessageToJsonString(login, &body).ok());
  auto r = client.Post("/api/login", body, "application/json");
  REQUIRE(r);
  INFO(r->body);
  REQUIRE(r->status == 200);
  const std::string set_cookie = r->get_header_value("Set-Cookie");
  ConsoleSession s;
  s.cookie = set_cookie.substr(0, set_cookie.find(';'));
  v1::ConsoleSession answer;
  REQUIRE(google::protobuf::util::JsonStringToMessage(r->body, &answer).ok());
  s.csrf = answer.csrf_token();
  REQUIRE(!s.csrf.empty());
  return s;
}

}  // namespace storenode::testing
