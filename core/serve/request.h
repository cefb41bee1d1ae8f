#pragma once
// The body of a /predict or /explain request, read once: {"records": [{feature: value, ...}, ...], "key": "..."}.
//
// Most bodies are plain: ASCII names and strings without escapes, numbers, true, false and null. Those are read by a
// scanner that keeps only where each member sits in the body, so scoring one record allocates almost nothing.
// Anything else (escapes, non-ASCII text, nested values, duplicate names, a malformed body) is read by QJsonDocument,
// which is also what names the error; both forms give the same values to ModelRuntime::toTable.

#include "util/result.h"

#include <QByteArray>
#include <QJsonArray>
#include <QJsonObject>
#include <QJsonValue>
#include <QString>

#include <optional>
#include <string_view>
#include <vector>

namespace keel::serve {

/// One feature value of a record, as the schema check sees it (serve/endpoint.cpp decides what each type accepts).
struct InputValue {
    enum class Kind { Null, Number, Bool, String, Other };
    Kind kind = Kind::Null;
    double number = 0;
    bool boolean = false;
    std::string_view text;   ///< String: UTF-8, valid while the request (or the converted value) lives
};

class RequestRecords {
public:
    /// Reads a body. Errors (InvalidInput) name the field: not a JSON object (with the byte), an unknown top-level
    /// member, "records" not an array or empty. The record count limit is the server's (size()).
    static Expected<RequestRecords> parse(const QByteArray &body);
    /// Records already parsed (the audit's recomputation and the bundle's background rows).
    static RequestRecords fromJson(const QJsonArray &records);

    qsizetype size() const { return m_fast ? qsizetype(m_recordStarts.size()) - 1 : m_records.size(); }
    /// The "key" member (the canary split), when the body had one.
    const std::optional<QString> &key() const { return m_key; }

    /// Calls `visit(name, value)` for each member of record `r` in body order until it returns false; returns false,
    /// without visiting, when the record is not a JSON object.
    template <class Visit>
    bool forEachMember(qsizetype r, Visit &&visit) const;
    /// Record `r` as compact JSON (one line): the bytes as received without the whitespace between tokens, or, for
    /// the general form, as QJsonDocument writes it.
    void appendRecordJson(QByteArray &out, qsizetype r) const;

private:
    struct Member {
        qint32 name = 0, nameSize = 0;
        qint32 value = 0, valueSize = 0;
        InputValue::Kind kind = InputValue::Kind::Null;
        double number = 0;
    };
    static std::optional<RequestRecords> scan(const QByteArray &body);
    /// A general-form value converted for the schema check; `storage` keeps its text alive.
    static InputValue convert(const QJsonValue &v, QByteArray &storage);

    bool m_fast = false;
    QByteArray m_body;
    std::vector<Member> m_members;
    std::vector<qint32> m_recordStarts;   ///< index into m_members of each record's first member, then the end
    std::vector<std::pair<qint32, qint32>> m_recordSpans;   ///< each record's object text in the body
    QJsonArray m_records;
    std::optional<QString> m_key;
};

template <class Visit>
bool RequestRecords::forEachMember(qsizetype r, Visit &&visit) const
{
    if (m_fast) {
        for (qint32 m = m_recordStarts[size_t(r)]; m < m_recordStarts[size_t(r) + 1]; ++m) {
            const Member &member = m_members[size_t(m)];
            InputValue v;
            v.kind = member.kind;
            v.number = member.number;
            v.boolean = member.kind == InputValue::Kind::Bool && m_body[member.value] == 't';
            if (member.kind == InputValue::Kind::String)
                v.text = std::string_view(m_body.constData() + member.value, size_t(member.valueSize));
            if (!visit(std::string_view(m_body.constData() + member.name, size_t(member.nameSize)), v))
                break;
        }
        return true;
    }
    const QJsonValue record = m_records[r];
    if (!record.isObject())
        return false;
    const QJsonObject o = record.toObject();
    for (auto it = o.begin(); it != o.end(); ++it) {
        QByteArray storage;
        const QByteArray name = it.key().toUtf8();
        if (!visit(std::string_view(name.constData(), size_t(name.size())), convert(it.value(), storage)))
            break;
    }
    return true;
}

} // namespace keel::serve
