// Internal: one libpq connection, used by one thread at a time, and the
// connection settings every connection of a SharedPool shares.
//
// Every statement runs with a deadline: the server enforces
// statement_timeout, and the client gives up on a reply that has not come
// kReplyGrace after that (a hung network), dropping the connection. Every
// message that leaves this file has the conninfo's secrets removed.
#ifndef ADDRPOOL_LIB_PG_CONN_HPP
#define ADDRPOOL_LIB_PG_CONN_HPP

#include <addrpool/result.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

struct pg_conn;
struct pg_result;

namespace addrpool::pg::detail {

inline constexpr std::chrono::milliseconds kReplyGrace{2000};

// The parsed conninfo (keyword/value pairs, the password among them) plus our
// own settings. Parsed once by open(); the secrets are wiped on destruction.
class ConnSettings {
public:
    // Errors: invalid_argument for a conninfo libpq cannot parse (the message
    // does not repeat the text: it may hold a password).
    static Result<ConnSettings> parse(const std::string& conninfo, std::chrono::milliseconds statement_timeout);
    ~ConnSettings();
    ConnSettings(ConnSettings&&) noexcept = default;
    ConnSettings& operator=(ConnSettings&&) noexcept = default;
    ConnSettings(const ConnSettings&) = delete;
    ConnSettings& operator=(const ConnSettings&) = delete;

    // `text` with every occurrence of a secret (password, sslpassword)
    // replaced by "***", and without a trailing newline.
    std::string scrub(std::string_view text) const;

    std::chrono::milliseconds statement_timeout() const noexcept { return statement_timeout_; }

private:
    ConnSettings() = default;
    friend class Conn;
    std::vector<std::string> keywords_;
    std::vector<std::string> values_;
    std::vector<std::string> secrets_;
    std::chrono::milliseconds statement_timeout_{};
};

// A result row set. Values are text (libpq's text format).
class Rows {
public:
    Rows() = default;
    explicit Rows(pg_result* r) noexcept : r_(r) {}
    ~Rows();
    Rows(Rows&& o) noexcept : r_(o.r_) { o.r_ = nullptr; }
    Rows& operator=(Rows&& o) noexcept;
    Rows(const Rows&) = delete;
    Rows& operator=(const Rows&) = delete;

    int rows() const noexcept;
    bool null(int row, int col) const noexcept;
    std::string_view text(int row, int col) const noexcept;
    // The value as a signed integer; nullopt for NULL (or, impossibly, junk).
    std::optional<std::int64_t> int64(int row, int col) const noexcept;
    // The number of rows an UPDATE/INSERT touched.
    std::uint64_t affected() const noexcept;

private:
    pg_result* r_ = nullptr;
};

// A prepared statement: its name and SQL (lib/pg/schema.cpp).
struct Statement {
    const char* name;
    const char* sql;
};

class Conn {
public:
    // Connects and sets statement_timeout. Errors: backend_unavailable.
    static Result<std::unique_ptr<Conn>> connect(const ConnSettings& settings);
    ~Conn();
    Conn(const Conn&) = delete;
    Conn& operator=(const Conn&) = delete;

    // Prepares every statement (once per connection).
    Result<void> prepare(std::span<const Statement> statements);

    // Runs a prepared statement with text parameters (nullptr = NULL).
    // Errors: backend_unavailable (a lost connection marks this one broken).
    Result<Rows> exec(const Statement& statement, std::span<const char* const> params);
    // Runs one statement that is not prepared (open()'s few), with text
    // parameters.
    Result<Rows> exec_once(const char* what, const char* sql, std::span<const char* const> params);
    // Runs one or more plain SQL statements (the simple query protocol), e.g.
    // the schema script; returns the last result.
    Result<Rows> exec_script(const char* sql);

    // False once the connection was lost or timed out: it must be dropped.
    bool usable() const noexcept;
    // For an idle connection: false (and broken) when the server sent
    // anything meanwhile — a termination notice, the EOF of a restart — or
    // the connection is not usable().
    bool still_usable() noexcept;

private:
    Conn(pg_conn* c, const ConnSettings& s) noexcept : c_(c), settings_(&s) {}
    Result<Rows> finish(std::string_view what);
    Error lost(std::string_view what, std::string_view detail);
    bool wait_socket(bool for_write, std::chrono::steady_clock::time_point deadline) noexcept;

    pg_conn* c_;
    const ConnSettings* settings_;
    bool broken_ = false;
};

}  // namespace addrpool::pg::detail

#endif  // ADDRPOOL_LIB_PG_CONN_HPP
