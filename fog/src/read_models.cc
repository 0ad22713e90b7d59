#include "read_models.h"

#include "storenode/common/totals.h"
#include "storenode/fog/fog.h"

namespace storenode::fog {

void ReadModels::Add(const DecodedEvent& event) {
  const v1::EventHeader& h = event.header;
  v1::DayTotals& t = day_totals_[{h.device_id(), h.business_day()}];
  AddToTotals(event, &t);
}

Result<v1::DayTotals> LoadDayTotals(sql::Db& db, const std::string& device,
                                    const std::string& day) {
  SN_ASSIGN_OR_RETURN(sql::Stmt stmt, db.Prepare("SELECT totals FROM day_totals "
                                                 "WHERE device_id = ? AND business_day = ?"));
  stmt.Bind(1, device).Bind(2, day);
  v1::DayTotals t;
  SN_ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (row && !t.ParseFromString(std::string(stmt.BlobView(0)))) {
    return Status::Corruption("day_totals of " + device + " " + day + " do not parse");
  }
  t.set_device_id(device);
  t.set_business_day(day);
  return t;
}

Status ReadModels::Flush(sql::Db& db) {
  SN_ASSIGN_OR_RETURN(sql::Stmt put, db.Prepare("INSERT OR REPLACE INTO day_totals(device_id, "
                                                "business_day, totals) VALUES(?,?,?)"));
  for (auto& [key, delta] : day_totals_) {
    SN_ASSIGN_OR_RETURN(v1::DayTotals t, LoadDayTotals(db, key.first, key.second));
    t.set_store_id(delta.store_id());
    MergeTotals(delta, &t);
    FinishTotals(&t);
    put.Bind(1, key.first).Bind(2, key.second).BindBlob(3, t.SerializeAsString());
    SN_RETURN_IF_ERROR(put.Run());
  }
  day_totals_.clear();
  return Status::Ok();
}

Result<std::vector<v1::DayTotals>> ReadDayTotals(const std::string& fog_db_path) {
  sql::OpenOptions options;
  options.read_only = true;
  SN_ASSIGN_OR_RETURN(auto db, sql::Db::Open(fog_db_path, options));
  SN_ASSIGN_OR_RETURN(sql::Stmt stmt, db->Prepare("SELECT device_id, business_day, totals FROM "
                                                  "day_totals ORDER BY 1, 2"));
  std::vector<v1::DayTotals> out;
  while (true) {
    SN_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    v1::DayTotals& t = out.emplace_back();
    if (!t.ParseFromString(std::string(stmt.BlobView(2)))) {
      return Status::Corruption("day_totals of " + stmt.Text(0) + " do not parse");
    }
    t.set_device_id(stmt.Text(0));
    t.set_business_day(stmt.Text(1));
  }
  return out;
}

}  // namespace storenode::fog
