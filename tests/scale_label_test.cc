// Scale labels (common/scale_label.h): GS1 variable-measure EAN-13 codes
// under the layouts a store configures, with both check digits worked out
// here by hand (GS1 General Specifications, the price/weight check digit).
#include "storenode/common/scale_label.h"

#include <catch2/catch.hpp>
#include <vector>

using namespace storenode;
using scale::Embedded;
using scale::Layout;

namespace {

const std::vector<Layout> kLayouts = {
    // 21: 5-digit item, 5-digit price in cents, no price check digit.
    {"21", 5, false, 5, Embedded::kPrice},
    // 22: 4-digit item, a price check digit over a 5-digit price.
    {"22", 4, true, 5, Embedded::kPrice},
    // 25: 5-digit item, a price check digit over a 4-digit price.
    {"25", 5, true, 4, Embedded::kPrice},
    // 28: 5-digit item, weight in grams.
    {"28", 5, false, 5, Embedded::kMeasure},
};

}  // namespace

TEST_CASE("the price check digit follows GS1's weighting factors", "[scale]") {
  // The GS1 General Specifications' own examples.
  CHECK(scale::PriceCheckDigit("2875") == 9);   // 4+5+1+3 = 13, x3 = 39
  CHECK(scale::PriceCheckDigit("14685") == 6);  // 5+8+7+4+9 = 33; 5-(6) = 7
  // 0,1,4,9,9: 5+(0) 2-(1) 5-(4) 5+(9) 2-(9) = 0+2+8+9+7 = 26; 5-(3) = 4.
  CHECK(scale::PriceCheckDigit("01499") == 3);
  // 1,2,5,0: 2+4+5+0 = 11, x3 = 33.
  CHECK(scale::PriceCheckDigit("1250") == 3);
  CHECK(scale::Ean13CheckDigit("400638133393") == 1);  // a retail EAN-13
  CHECK(scale::Ean13CheckDigit("211234501234") == 6);
}

TEST_CASE("scale labels give the item code and the embedded price or weight", "[scale]") {
  struct Case {
    const char* code;
    const char* item;
    Embedded embedded;
    int64_t value;
  };
  for (const Case& c : {
           Case{"2112345012346", "2112345", Embedded::kPrice, 1234},
           Case{"2243213014992", "224321", Embedded::kPrice, 1499},
           Case{"2523456312506", "2523456", Embedded::kPrice, 1250},
           Case{"2812345007501", "2812345", Embedded::kMeasure, 750},  // 0.750 kg
       }) {
    INFO(c.code);
    auto label = scale::Parse(c.code, kLayouts);
    REQUIRE(label.ok());
    CHECK(label->item_code == c.item);
    CHECK(label->embedded == c.embedded);
    CHECK(label->value == c.value);
  }
}

TEST_CASE("a scale label with a wrong check digit is refused, naming the digit", "[scale]") {
  struct Case {
    const char* code;
    const char* reason;
  };
  for (const Case& c : {
           Case{"2112345012347", "check digit (digit 13) is 7, 6 expected"},
           // 01499's price check digit is 3; 4 with the EAN check digit made to fit.
           Case{"2243214014991", "price check digit (digit 7) is 4, 3 expected"},
           Case{"2523456212509", "price check digit (digit 8) is 2, 3 expected"},
       }) {
    INFO(c.code);
    auto label = scale::Parse(c.code, kLayouts);
    REQUIRE_FALSE(label.ok());
    CHECK(label.status().code() == Code::kInvalidArgument);
    CHECK_THAT(label.status().message(), Catch::Contains(c.reason));
  }
  // Not a scale label at all, or a prefix the store has no layout for.
  CHECK(scale::Parse("4006381333931", kLayouts).status().code() == Code::kNotFound);
  CHECK(scale::Parse("211234501234", kLayouts).status().code() == Code::kNotFound);
  CHECK_THAT(scale::Parse("2900120012502", kLayouts).status().message(),
             Catch::Contains("no layout of the store takes prefix 29"));
}

TEST_CASE("a scale layout must add up to 13 digits", "[scale]") {
  for (const Layout& l : kLayouts) CHECK(scale::CheckLayout(l).ok());
  CHECK_THAT(scale::CheckLayout({"21", 6, false, 5, Embedded::kPrice}).message(),
             Catch::Contains("make 14 digits, not 13"));
  CHECK_THAT(scale::CheckLayout({"31", 5, false, 5, Embedded::kPrice}).message(),
             Catch::Contains("is not 2 or 20..29"));
  CHECK_THAT(scale::CheckLayout({"2", 5, true, 6, Embedded::kPrice}).message(),
             Catch::Contains("4 or 5 value digits, not 6"));
  CHECK(scale::CheckLayout({"2", 6, false, 5, Embedded::kMeasure}).ok());
}
