#include "reorder.h"

#include <sched.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>

#include "catalog.h"
#include "storenode/common/clock.h"

namespace storenode::fog {
namespace {

constexpr int64_t kMilli = 1000;
// The history a suggestion carries for the console's chart (the forecast
// itself sees config.history_days).
constexpr int kShownHistoryDays = 56;
// Most items one answer lists (an MQTT answer stays far below its limit).
constexpr int kMaxAnswerItems = 5000;

Status WriteChunk(sql::Db& db, const std::vector<v1::ReorderItem>& items, int64_t run_us) {
  sql::Transaction txn(db);
  SN_RETURN_IF_ERROR(txn.begin_status());
  SN_ASSIGN_OR_RETURN(sql::Stmt put, db.Prepare("INSERT OR REPLACE INTO reorder_items(sku, "
                                                "supplier, run_us, item) VALUES(?,?,?,?)"));
  for (const v1::ReorderItem& i : items) {
    put.Bind(1, i.sku()).Bind(2, i.supplier()).Bind(3, run_us).BindBlob(4, i.SerializeAsString());
    SN_RETURN_IF_ERROR(put.Run());
  }
  return txn.Commit();
}

// The run is complete: rows of items it did not reach (gone from the
// catalog, inactive) go, and the state names it.
Status FinishRun(sql::Db& db, int64_t run_us, const std::string& history_to) {
  sql::Transaction txn(db);
  SN_RETURN_IF_ERROR(txn.begin_status());
  SN_ASSIGN_OR_RETURN(sql::Stmt drop, db.Prepare("DELETE FROM reorder_items WHERE run_us < ?"));
  drop.Bind(1, run_us);
  SN_RETURN_IF_ERROR(drop.Run());
  SN_ASSIGN_OR_RETURN(sql::Stmt state, db.Prepare("INSERT OR REPLACE INTO reorder_state(id, "
                                                  "computed_us, history_to) VALUES(1,?,?)"));
  state.Bind(1, run_us).Bind(2, history_to);
  SN_RETURN_IF_ERROR(state.Run());
  return txn.Commit();
}

}  // namespace

double OrderUpTo(const forecast::Forecast& f, int lead_time_days, int review_days,
                 double service_level) {
  const int days = lead_time_days + review_days;
  return days <= 0 ? 0 : f.SumQuantile(days, service_level);
}

int64_t SuggestedOrder(double order_up_to, int64_t on_hand_milli, int64_t on_order_milli,
                       uint32_t pack_size, uint32_t min_order) {
  const int64_t need = std::llround(order_up_to * kMilli) - on_hand_milli - on_order_milli;
  if (need <= 0) return 0;
  const int64_t pack = std::max<int64_t>(1, pack_size);
  const int64_t pack_milli = pack * kMilli;
  int64_t units = (need + pack_milli - 1) / pack_milli * pack;
  if (units < int64_t{min_order}) units = (int64_t{min_order} + pack - 1) / pack * pack;
  return units;
}

v1::ReorderItem PlanItem(const Series& history, const v1::CatalogItem& item, const Level& level,
                         const StockConfig& config, int64_t now_us) {
  const catalog::ItemReorderTerms terms = catalog::TermsOf(item);
  const int cover = static_cast<int>(terms.lead_time_days) + config.review_days;
  const forecast::Classification c = forecast::Classify(history.days);
  const forecast::Forecast f = forecast::Predict(history.days, FirstWeekday(history),
                                                 std::max(forecast::kDefaultHorizon, cover),
                                                 forecast::DefaultFor(c.demand_class));
  v1::ReorderItem out;
  out.set_sku(item.sku());
  if (const v1::CatalogEntry* e = catalog::EntryAt(item, now_us)) out.set_name(e->name());
  out.set_supplier(terms.supplier);
  out.set_demand_class(std::string(forecast::Name(c.demand_class)));
  out.set_method(std::string(forecast::Name(f.method)));
  out.set_adi(std::isfinite(c.adi) ? c.adi : 0);
  out.set_cv2(c.cv2);
  out.set_on_hand_milli(level.on_hand_milli);
  out.set_on_order_milli(level.on_order_milli);
  out.set_lead_time_days(terms.lead_time_days);
  out.set_review_days(static_cast<uint32_t>(config.review_days));
  out.set_pack_size(terms.pack_size);
  out.set_min_order(terms.min_order);
  out.set_service_level(config.service_level());
  double mean = 0;
  for (int i = 0; i < cover && i < static_cast<int>(f.mean.size()); ++i) mean += f.mean[i];
  out.set_forecast_mean(mean);
  out.set_order_up_to(OrderUpTo(f, static_cast<int>(terms.lead_time_days), config.review_days,
                                config.service_level()));
  out.set_suggested(SuggestedOrder(out.order_up_to(), level.on_hand_milli, level.on_order_milli,
                                   terms.pack_size, terms.min_order));
  const int shown = std::min<int>(kShownHistoryDays, static_cast<int>(history.days.size()));
  const size_t from = history.days.size() - static_cast<size_t>(shown);
  out.set_history_from(AddDays(history.first_day, static_cast<int>(from)));
  for (size_t i = from; i < history.days.size(); ++i) {
    out.add_history_qty(history.days[i].qty);
    out.add_history_censored(history.days[i].censored);
  }
  out.set_forecast_from(AddDays(history.first_day, static_cast<int>(history.days.size())));
  for (size_t i = 0; i < f.mean.size(); ++i) {
    out.add_forecast_daily_mean(f.mean[i]);
    out.add_forecast_q50(i < f.q50.size() ? f.q50[i] : 0);
    out.add_forecast_q90(i < f.q90.size() ? f.q90[i] : 0);
  }
  return out;
}

Result<v1::ReorderResponse> ReadReorder(sql::Db& db, const std::string& supplier,
                                        const std::string& sku, bool all) {
  v1::ReorderResponse out;
  SN_ASSIGN_OR_RETURN(sql::Stmt state,
                      db.Prepare("SELECT computed_us, history_to FROM reorder_state"));
  SN_ASSIGN_OR_RETURN(bool computed, state.Step());
  if (computed) {
    out.set_computed_us(state.Int(0));
    out.set_history_to(state.Text(1));
  }
  const std::string wanted = supplier == "(none)" ? "" : supplier;
  SN_ASSIGN_OR_RETURN(sql::Stmt rows,
                      db.Prepare("SELECT item FROM reorder_items WHERE (?1 = 0 OR supplier = ?2) "
                                 "AND (?3 = '' OR sku = ?3) ORDER BY supplier, sku"));
  rows.Bind(1, int64_t{supplier.empty() ? 0 : 1}).Bind(2, wanted).Bind(3, sku);
  while (true) {
    SN_ASSIGN_OR_RETURN(bool row, rows.Step());
    if (!row) break;
    v1::ReorderItem item;
    if (!item.ParseFromString(rows.Blob(0))) {
      return Status::Corruption("a reorder_items row does not parse");
    }
    if (!all && sku.empty() && item.suggested() == 0) continue;
    if (out.items_size() >= kMaxAnswerItems) {
      out.set_truncated(true);
      break;
    }
    *out.add_items() = std::move(item);
  }
  return out;
}

ReorderJob::ReorderJob(std::string db_path, StockConfig config, const Clock& clock,
                       std::function<std::string()> today,
                       std::function<bool(std::function<void(sql::Db&)>)> post)
    : db_path_(std::move(db_path)),
      config_(config),
      clock_(clock),
      today_(std::move(today)),
      post_(std::move(post)) {}

ReorderJob::~ReorderJob() { Stop(); }

void ReorderJob::Start() {
  thread_ = std::thread([this] { Loop(); });
}

void ReorderJob::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void ReorderJob::Trigger() {
  {
    std::lock_guard lock(mu_);
    triggered_ = true;
  }
  cv_.notify_all();
}

void ReorderJob::Loop() {
  // NOTES 1: the lowest priority for this thread alone (Linux: per thread).
  // SCHED_IDLE runs it only on a core nothing else wants; nice 19 is the
  // fallback where that policy is refused.
  const auto tid = static_cast<pid_t>(syscall(SYS_gettid));
  sched_param idle{};
  if (sched_setscheduler(tid, SCHED_IDLE, &idle) != 0 &&
      setpriority(PRIO_PROCESS, static_cast<id_t>(tid), 19) != 0) {
    spdlog::warn("reorder job: cannot lower its priority");
  }
  while (true) {
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [this] { return triggered_ || stopping_; });
      if (stopping_) return;
      triggered_ = false;
    }
    running_ = true;
    Status s = RunOnce();
    running_ = false;
    if (!s.ok()) spdlog::warn("reorder suggestions not computed: {}", s.ToString());
  }
}

Status ReorderJob::RunOnce() {
  sql::OpenOptions options;
  options.create = false;
  options.read_only = true;
  // A bounded page cache of its own (NOTES 2): each chunk's history is one
  // range scan of stock_moves, which the chunks read in sku order.
  options.cache_size_kib = 16 * 1024;
  SN_ASSIGN_OR_RETURN(auto db, sql::Db::Open(db_path_, options));
  const int64_t run_us = clock_.NowMicros();
  const std::string today = today_();
  if (today.empty()) return Status::Unavailable("the store's business day is not known");
  const std::string last_day = AddDays(today, -1);
  SN_ASSIGN_OR_RETURN(auto levels, StockLevels(*db));
  std::string after;
  size_t planned = 0;
  while (true) {
    {
      std::lock_guard lock(mu_);
      if (stopping_) return Status::Unavailable("the fog is stopping");
    }
    SN_ASSIGN_OR_RETURN(auto items, CatalogItemsAfter(*db, after, kChunkItems));
    if (items.empty()) break;
    after = items.back().sku();
    std::vector<const v1::CatalogItem*> active;
    std::vector<std::string> skus;
    for (const v1::CatalogItem& item : items) {
      const v1::CatalogEntry* e = catalog::EntryAt(item, run_us);
      if (e == nullptr || !e->active()) continue;
      active.push_back(&item);
      skus.push_back(item.sku());
    }
    SN_ASSIGN_OR_RETURN(auto series, DemandHistoryOf(*db, skus, last_day, config_.history_days));
    auto chunk = std::make_shared<std::vector<v1::ReorderItem>>();
    for (size_t i = 0; i < active.size(); ++i) {
      auto level = levels.find(skus[i]);
      chunk->push_back(PlanItem(series[i], *active[i],
                                level == levels.end() ? Level{} : level->second, config_, run_us));
    }
    planned += chunk->size();
    auto written = std::make_shared<Status>(Status::Ok());
    if (!post_(
            [chunk, run_us, written](sql::Db& w) { *written = WriteChunk(w, *chunk, run_us); })) {
      return Status::Unavailable("the fog is stopping");
    }
    SN_RETURN_IF_ERROR(*written);
  }
  if (planned == 0) {
    // Nothing to suggest and nothing to take back (a store without a
    // catalog): fog.db is left as it is.
    SN_ASSIGN_OR_RETURN(sql::Stmt any, db->Prepare("SELECT COUNT(*) FROM reorder_items"));
    SN_ASSIGN_OR_RETURN(bool row, any.Step());
    if (!row || any.Int(0) == 0) return Status::Ok();
  }
  auto finished = std::make_shared<Status>(Status::Ok());
  if (!post_([run_us, last_day, finished](sql::Db& w) {
        *finished = FinishRun(w, run_us, last_day);
      })) {
    return Status::Unavailable("the fog is stopping");
  }
  SN_RETURN_IF_ERROR(*finished);
  spdlog::info("reorder suggestions for {} items computed (history to {})", planned, last_day);
  return Status::Ok();
}

}  // namespace storenode::fog
