// A minimal JSON reader for the test vectors in test/data (no dependency
// beyond the standard library). Strict enough for well-formed input; throws
// std::runtime_error on anything it does not understand.
#ifndef ADDRPOOL_TEST_JSON_HPP
#define ADDRPOOL_TEST_JSON_HPP

#include <cctype>
#include <cstdint>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace testjson {

class Value {
public:
    enum class Type { null, boolean, number, string, array, object };

    Type type() const { return type_; }
    bool is_null() const { return type_ == Type::null; }
    bool has(const std::string& key) const { return type_ == Type::object && object_.count(key) != 0; }

    const Value& operator[](const std::string& key) const {
        expect(Type::object, "object");
        auto it = object_.find(key);
        if (it == object_.end()) throw std::runtime_error("json: missing key '" + key + "'");
        return it->second;
    }
    const Value& operator[](std::size_t i) const {
        expect(Type::array, "array");
        if (i >= array_.size()) throw std::runtime_error("json: index out of range");
        return array_[i];
    }
    std::size_t size() const {
        if (type_ == Type::array) return array_.size();
        if (type_ == Type::object) return object_.size();
        throw std::runtime_error("json: size() of a scalar");
    }
    const std::vector<Value>& array() const { expect(Type::array, "array"); return array_; }
    const std::map<std::string, Value>& object() const { expect(Type::object, "object"); return object_; }
    const std::string& str() const { expect(Type::string, "string"); return text_; }
    bool boolean() const { expect(Type::boolean, "boolean"); return boolean_; }
    std::uint64_t u64() const { expect(Type::number, "number"); return std::stoull(text_); }
    std::int64_t i64() const { expect(Type::number, "number"); return std::stoll(text_); }

    static Value parse(std::string_view text) {
        std::size_t pos = 0;
        Value v = parse_value(text, pos);
        skip_ws(text, pos);
        if (pos != text.size()) throw std::runtime_error("json: trailing characters");
        return v;
    }
    static Value parse_file(const std::string& path) {
        std::ifstream in(path, std::ios::binary);
        if (!in) throw std::runtime_error("json: cannot open " + path);
        std::stringstream ss;
        ss << in.rdbuf();
        return parse(ss.str());
    }

private:
    void expect(Type t, const char* name) const {
        if (type_ != t) throw std::runtime_error(std::string("json: value is not a ") + name);
    }
    static void skip_ws(std::string_view s, std::size_t& p) {
        while (p < s.size() && (s[p] == ' ' || s[p] == '\n' || s[p] == '\r' || s[p] == '\t')) ++p;
    }
    static char peek(std::string_view s, std::size_t p) {
        if (p >= s.size()) throw std::runtime_error("json: unexpected end");
        return s[p];
    }
    static void literal(std::string_view s, std::size_t& p, std::string_view word) {
        if (s.substr(p, word.size()) != word) throw std::runtime_error("json: bad literal");
        p += word.size();
    }
    static std::string parse_string(std::string_view s, std::size_t& p) {
        if (peek(s, p) != '"') throw std::runtime_error("json: expected string");
        ++p;
        std::string out;
        for (;;) {
            char c = peek(s, p++);
            if (c == '"') return out;
            if (c != '\\') { out += c; continue; }
            char e = peek(s, p++);
            switch (e) {
                case '"': out += '"'; break;
                case '\\': out += '\\'; break;
                case '/': out += '/'; break;
                case 'b': out += '\b'; break;
                case 'f': out += '\f'; break;
                case 'n': out += '\n'; break;
                case 'r': out += '\r'; break;
                case 't': out += '\t'; break;
                case 'u': {
                    if (p + 4 > s.size()) throw std::runtime_error("json: bad \\u escape");
                    unsigned cp = std::stoul(std::string(s.substr(p, 4)), nullptr, 16);
                    p += 4;
                    // UTF-8 encode (the vectors use only the BMP).
                    if (cp < 0x80) out += static_cast<char>(cp);
                    else if (cp < 0x800) {
                        out += static_cast<char>(0xC0 | (cp >> 6));
                        out += static_cast<char>(0x80 | (cp & 0x3F));
                    } else {
                        out += static_cast<char>(0xE0 | (cp >> 12));
                        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
                        out += static_cast<char>(0x80 | (cp & 0x3F));
                    }
                    break;
                }
                default: throw std::runtime_error("json: bad escape");
            }
        }
    }
    static Value parse_value(std::string_view s, std::size_t& p) {
        skip_ws(s, p);
        Value v;
        char c = peek(s, p);
        if (c == '{') {
            v.type_ = Type::object;
            ++p;
            skip_ws(s, p);
            if (peek(s, p) == '}') { ++p; return v; }
            for (;;) {
                skip_ws(s, p);
                std::string key = parse_string(s, p);
                skip_ws(s, p);
                if (peek(s, p++) != ':') throw std::runtime_error("json: expected ':'");
                v.object_.emplace(std::move(key), parse_value(s, p));
                skip_ws(s, p);
                char d = peek(s, p++);
                if (d == '}') return v;
                if (d != ',') throw std::runtime_error("json: expected ',' or '}'");
            }
        }
        if (c == '[') {
            v.type_ = Type::array;
            ++p;
            skip_ws(s, p);
            if (peek(s, p) == ']') { ++p; return v; }
            for (;;) {
                v.array_.push_back(parse_value(s, p));
                skip_ws(s, p);
                char d = peek(s, p++);
                if (d == ']') return v;
                if (d != ',') throw std::runtime_error("json: expected ',' or ']'");
            }
        }
        if (c == '"') { v.type_ = Type::string; v.text_ = parse_string(s, p); return v; }
        if (c == 't') { literal(s, p, "true"); v.type_ = Type::boolean; v.boolean_ = true; return v; }
        if (c == 'f') { literal(s, p, "false"); v.type_ = Type::boolean; v.boolean_ = false; return v; }
        if (c == 'n') { literal(s, p, "null"); return v; }
        std::size_t start = p;
        while (p < s.size() && (std::isdigit(static_cast<unsigned char>(s[p])) || s[p] == '-' || s[p] == '+' ||
                                s[p] == '.' || s[p] == 'e' || s[p] == 'E')) ++p;
        if (start == p) throw std::runtime_error("json: unexpected character");
        v.type_ = Type::number;
        v.text_ = std::string(s.substr(start, p - start));
        return v;
    }

    Type type_ = Type::null;
    bool boolean_ = false;
    std::string text_;
    std::vector<Value> array_;
    std::map<std::string, Value> object_;
};

// Path of a file in test/data (the build passes the directory in).
inline std::string data_path(const std::string& name) { return std::string(ADDRPOOL_TEST_DATA) + "/" + name; }

inline std::vector<std::uint8_t> unhex(std::string_view hex) {
    if (hex.size() % 2) throw std::runtime_error("unhex: odd length");
    std::vector<std::uint8_t> out(hex.size() / 2);
    for (std::size_t i = 0; i < out.size(); ++i) out[i] = static_cast<std::uint8_t>(std::stoul(std::string(hex.substr(2 * i, 2)), nullptr, 16));
    return out;
}

template <class Bytes>
std::string hex(const Bytes& b) {
    static const char* digits = "0123456789abcdef";
    std::string out;
    for (auto x : b) { out += digits[static_cast<std::uint8_t>(x) >> 4]; out += digits[static_cast<std::uint8_t>(x) & 15]; }
    return out;
}

}  // namespace testjson

#endif
