#include "support/till.h"

#include "sim/sim.h"

namespace storenode::testing {

edge::Options TillOptions(const std::string& dir, const std::string& device, const Clock* clock) {
  edge::Options o;
  o.journal_path = dir + "/" + device + ".db";
  o.store_id = "store-1";
  o.device_id = device;
  o.settings = sim::SimSettings(o.store_id, "UTC", /*cash_rounding=*/1);
  o.clock = clock;
  return o;
}

v1::Sale SimpleSale(const std::string& sku, int64_t qty, int64_t price, const std::string& tax_code,
                    v1::TenderType type) {
  v1::Sale sale;
  v1::SaleLine* line = sale.add_lines();
  line->set_sku(sku);
  line->set_qty(qty);
  line->set_unit_price(price);
  line->set_tax_code(tax_code);
  v1::Tender* t = sale.add_tenders();
  t->set_type(type);
  t->set_amount(qty * price);
  sale.set_cashier("c1");
  return sale;
}

}  // namespace storenode::testing
