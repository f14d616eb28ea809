// One libpq connection with deadlines, and the conninfo it is made from.
#include "pg/conn.hpp"

#include "common/finally.hpp"

#include <libpq-fe.h>
#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <new>
#include <string.h>  // explicit_bzero

namespace addrpool::pg::detail {

namespace {

// Keywords whose values are secrets: never in a message.
constexpr std::string_view kSecretKeywords[] = {"password", "sslpassword"};

void wipe(std::string& s) noexcept {
    if (!s.empty()) explicit_bzero(s.data(), s.size());
}

std::string trim_newlines(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
    for (char& ch : s) {
        if (ch == '\n') ch = ' ';
    }
    return s;
}

// libpq's default notice processor prints to stderr (e.g. "relation already
// exists, skipping" from the schema script); a library must not.
void ignore_notice(void*, const char*) {}

}  // namespace

// ---- ConnSettings -----------------------------------------------------------

Result<ConnSettings> ConnSettings::parse(const std::string& conninfo, std::chrono::milliseconds statement_timeout) {
    // libpq would stop at a NUL and connect with what comes before it.
    if (conninfo.find('\0') != std::string::npos) {
        return make_error(Errc::invalid_argument, "conninfo: contains a NUL byte");
    }
    char* errmsg = nullptr;
    PQconninfoOption* opts = PQconninfoParse(conninfo.c_str(), &errmsg);
    if (opts == nullptr) {
        // libpq's message quotes the text around the fault, which may be the
        // password: say what failed, not where.
        if (errmsg != nullptr) PQfreemem(errmsg);
        return make_error(Errc::invalid_argument,
                          "conninfo: libpq cannot parse it (the text is not repeated here: it may hold a password)");
    }
    // libpq's copies are wiped and freed on every way out, a throw included.
    const addrpool::detail::Finally free_opts([opts] {
        for (PQconninfoOption* o = opts; o->keyword != nullptr; ++o) {
            if (o->val != nullptr) explicit_bzero(o->val, std::strlen(o->val));
        }
        PQconninfoFree(opts);
    });
    // The vectors get their final capacity first: growing one would move
    // its strings, and a short value (held inside the string object) would
    // stay behind, unwiped, in the freed storage.
    std::size_t given = 0;
    for (const PQconninfoOption* o = opts; o->keyword != nullptr; ++o) given += o->val != nullptr ? 1 : 0;
    ConnSettings s;
    s.keywords_.reserve(given + 2);  // + connect_timeout, fallback_application_name
    s.values_.reserve(given + 2);
    s.secrets_.reserve(std::size(kSecretKeywords));
    s.statement_timeout_ = statement_timeout;
    bool has_connect_timeout = false;
    for (PQconninfoOption* o = opts; o->keyword != nullptr; ++o) {
        if (o->val == nullptr) continue;
        s.keywords_.emplace_back(o->keyword);
        s.values_.emplace_back(o->val);
        const std::string_view kw(o->keyword);
        if (kw == "connect_timeout") has_connect_timeout = true;
        if (std::find(std::begin(kSecretKeywords), std::end(kSecretKeywords), kw) != std::end(kSecretKeywords) &&
            *o->val != '\0') {
            s.secrets_.emplace_back(o->val);
        }
    }
    if (!has_connect_timeout) {
        // Whole seconds, at least 2 (libpq treats 1 as 2).
        const auto secs = std::max<std::int64_t>(2, (statement_timeout.count() + 999) / 1000);
        s.keywords_.emplace_back("connect_timeout");
        s.values_.emplace_back(std::to_string(secs));
    }
    s.keywords_.emplace_back("fallback_application_name");
    s.values_.emplace_back("addrpool-pg");
    return s;
}

ConnSettings::~ConnSettings() {
    for (auto& v : values_) wipe(v);
    for (auto& v : secrets_) wipe(v);
}

std::string ConnSettings::scrub(std::string_view text) const {
    std::string out(text);
    for (const auto& secret : secrets_) {
        for (std::size_t at = out.find(secret); at != std::string::npos; at = out.find(secret, at + 3)) {
            out.replace(at, secret.size(), "***");
        }
    }
    return trim_newlines(std::move(out));
}

// ---- Rows -------------------------------------------------------------------

Rows::~Rows() {
    if (r_ != nullptr) PQclear(r_);
}

Rows& Rows::operator=(Rows&& o) noexcept {
    if (this != &o) {
        if (r_ != nullptr) PQclear(r_);
        r_ = o.r_;
        o.r_ = nullptr;
    }
    return *this;
}

int Rows::rows() const noexcept { return r_ ? PQntuples(r_) : 0; }

bool Rows::null(int row, int col) const noexcept { return r_ == nullptr || PQgetisnull(r_, row, col) != 0; }

std::string_view Rows::text(int row, int col) const noexcept {
    if (null(row, col)) return {};
    return {PQgetvalue(r_, row, col), static_cast<std::size_t>(PQgetlength(r_, row, col))};
}

std::optional<std::int64_t> Rows::int64(int row, int col) const noexcept {
    if (null(row, col)) return std::nullopt;
    const std::string_view t = text(row, col);
    std::int64_t v = 0;
    auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
    if (ec != std::errc() || p != t.data() + t.size()) return std::nullopt;
    return v;
}

std::uint64_t Rows::affected() const noexcept {
    const char* n = r_ ? PQcmdTuples(r_) : "";
    std::uint64_t v = 0;
    std::from_chars(n, n + std::strlen(n), v);
    return v;
}

// ---- Conn -------------------------------------------------------------------

Result<std::unique_ptr<Conn>> Conn::connect(const ConnSettings& settings) {
    std::vector<const char*> kw, val;
    for (std::size_t i = 0; i < settings.keywords_.size(); ++i) {
        kw.push_back(settings.keywords_[i].c_str());
        val.push_back(settings.values_[i].c_str());
    }
    kw.push_back(nullptr);
    val.push_back(nullptr);
    // Blocking connect, bounded by connect_timeout.
    PGconn* c = PQconnectdbParams(kw.data(), val.data(), /*expand_dbname=*/0);
    if (c == nullptr) throw std::bad_alloc();
    if (PQstatus(c) != CONNECTION_OK) {
        std::string msg = settings.scrub(PQerrorMessage(c));
        PQfinish(c);
        return make_error(Errc::backend_unavailable, "cannot connect to the database server: " + msg);
    }
    PQsetNoticeProcessor(c, ignore_notice, nullptr);
    std::unique_ptr<Conn> conn(new Conn(c, settings));
    if (PQsetnonblocking(c, 1) != 0) return conn->lost("setting up the connection", PQerrorMessage(c));
    // The statements assume READ COMMITTED (a hand-out's SKIP LOCKED
    // re-check; under REPEATABLE READ concurrent hand-outs fail with
    // serialization errors) and a durable commit ("used" is committed
    // durably before mark_* returns): pinned here, whatever the server,
    // database or role default. synchronous_commit is raised only from
    // off (local, remote_write and remote_apply all flush locally).
    const std::string setup =
        "SET statement_timeout = " + std::to_string(settings.statement_timeout().count()) +
        "; SET client_min_messages = warning"
        "; SET default_transaction_isolation = 'read committed'"
        "; SELECT set_config('synchronous_commit', 'on', false) WHERE current_setting('synchronous_commit') = 'off'";
    if (auto r = conn->exec_script(setup.c_str()); !r) return std::move(r).error();
    return conn;
}

Conn::~Conn() { PQfinish(c_); }

bool Conn::usable() const noexcept { return !broken_ && PQstatus(c_) == CONNECTION_OK; }

bool Conn::still_usable() noexcept {
    if (!usable()) return false;
    pollfd p{PQsocket(c_), POLLIN, 0};
    if (p.fd < 0) return false;
    // An idle connection receives nothing we asked for (no LISTEN): data or
    // EOF here is a termination notice or a closed socket (a restart, an
    // idle timeout, pg_terminate_backend). Drop it rather than fail on it.
    if (::poll(&p, 1, 0) != 0) {
        broken_ = true;
        return false;
    }
    return PQtransactionStatus(c_) == PQTRANS_IDLE;
}

Error Conn::lost(std::string_view what, std::string_view detail) {
    broken_ = true;
    std::string msg = "lost the connection to the database server (" + std::string(what) + ")";
    const std::string d = settings_->scrub(detail);
    if (!d.empty()) msg += ": " + d;
    return make_error(Errc::backend_unavailable, std::move(msg));
}

bool Conn::wait_socket(bool for_write, std::chrono::steady_clock::time_point deadline) noexcept {
    for (;;) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) return false;
        pollfd p{PQsocket(c_), static_cast<short>(POLLIN | (for_write ? POLLOUT : 0)), 0};
        if (p.fd < 0) return true;  // libpq reports the failure on the next call
        const int n = ::poll(&p, 1, static_cast<int>(std::min<std::int64_t>(left.count() + 1, 60'000)));
        if (n > 0) return true;
        if (n < 0 && errno != EINTR) return true;  // as above
    }
}

Result<Rows> Conn::exec(const Statement& statement, std::span<const char* const> params) {
    if (!usable()) return lost(statement.name, "the connection was already broken");
    if (PQsendQueryPrepared(c_, statement.name, static_cast<int>(params.size()), params.data(), nullptr, nullptr,
                            0) == 0) {
        return lost(statement.name, PQerrorMessage(c_));
    }
    return finish(statement.name);
}

Result<Rows> Conn::exec_once(const char* what, const char* sql, std::span<const char* const> params) {
    if (!usable()) return lost(what, "the connection was already broken");
    if (PQsendQueryParams(c_, sql, static_cast<int>(params.size()), nullptr, params.data(), nullptr, nullptr, 0) == 0) {
        return lost(what, PQerrorMessage(c_));
    }
    return finish(what);
}

Result<Rows> Conn::exec_script(const char* sql) {
    if (!usable()) return lost("setup", "the connection was already broken");
    if (PQsendQuery(c_, sql) == 0) return lost("setup", PQerrorMessage(c_));
    return finish("setup");
}

Result<void> Conn::prepare(std::span<const Statement> statements) {
    for (const Statement& s : statements) {
        if (PQsendPrepare(c_, s.name, s.sql, 0, nullptr) == 0) return lost(s.name, PQerrorMessage(c_));
        if (auto r = finish(s.name); !r) return std::move(r).error();
    }
    return {};
}

// Sends what is buffered and collects every result of the command in
// flight, within statement_timeout + kReplyGrace.
Result<Rows> Conn::finish(std::string_view what) {
    const auto deadline = std::chrono::steady_clock::now() + settings_->statement_timeout() + kReplyGrace;
    const auto timed_out = [&] {
        return lost(what, "no reply within statement_timeout (" + std::to_string(settings_->statement_timeout().count()) +
                              " ms) + " + std::to_string(kReplyGrace.count()) + " ms");
    };
    for (;;) {
        const int f = PQflush(c_);
        if (f == 0) break;
        if (f < 0) return lost(what, PQerrorMessage(c_));
        if (!wait_socket(/*for_write=*/true, deadline)) return timed_out();
        if (PQconsumeInput(c_) == 0) return lost(what, PQerrorMessage(c_));
    }
    Rows last;
    std::optional<Error> failure;
    for (;;) {
        while (PQisBusy(c_) != 0) {
            if (!wait_socket(/*for_write=*/false, deadline)) return timed_out();
            if (PQconsumeInput(c_) == 0) return lost(what, PQerrorMessage(c_));
        }
        PGresult* r = PQgetResult(c_);
        if (r == nullptr) break;
        Rows rows(r);
        const ExecStatusType st = PQresultStatus(r);
        if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
            last = std::move(rows);
            continue;
        }
        if (failure) continue;  // the first error is the one to report
        const char* state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
        const char* primary = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
        const std::string sqlstate = state ? state : "";
        const std::string text = settings_->scrub(primary ? primary : PQresultErrorMessage(r));
        if (PQstatus(c_) == CONNECTION_BAD) {
            failure = lost(what, text);
        } else if (sqlstate == "57014") {
            failure = make_error(Errc::backend_unavailable,
                                 std::string(what) + ": statement timed out (statement_timeout " +
                                     std::to_string(settings_->statement_timeout().count()) + " ms)");
        } else {
            failure = make_error(Errc::backend_unavailable, std::string(what) + ": the database server refused it (SQLSTATE " +
                                                                 sqlstate + "): " + text);
        }
    }
    if (PQstatus(c_) == CONNECTION_BAD) {
        broken_ = true;
        if (!failure) failure = lost(what, PQerrorMessage(c_));
    }
    if (failure) return std::move(*failure);
    return last;
}

}  // namespace addrpool::pg::detail
