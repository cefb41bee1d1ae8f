// keel-bench-http-floor qt|beast PORT [THREADS]: the floor of an HTTP scoring route, for bench/run-serve.sh.
//
// Both servers answer POST on any path by parsing the JSON body with QJsonDocument (what keel serve does first) and
// returning a fixed prediction-sized JSON body, with keep-alive. No model runs: the difference between this and
// keel serve is Keel's own work, and the difference between the two servers is the HTTP layer's. `qt` is Qt
// HttpServer on one event-loop thread, as keel serve runs it; `beast` is Boost.Beast on an Asio io_context run by
// THREADS threads (default 1).
#include <QCoreApplication>
#include <QHttpServer>
#include <QHttpServerRequest>
#include <QHttpServerResponse>
#include <QJsonDocument>
#include <QJsonObject>

#include <boost/asio.hpp>
#include <boost/beast.hpp>

#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

const QByteArray kAnswer = QByteArrayLiteral(
    "{\"deployment\":\"credit\",\"predictions\":[{\"id\":\"abc-1\",\"model\":\"credit@v1\",\"label\":\"<=50K\","
    "\"probabilities\":{\"<=50K\":0.9,\">50K\":0.1}}],\"revision\":1}");

bool parses(const QByteArray &body)
{
    QJsonParseError pe;
    const QJsonDocument doc = QJsonDocument::fromJson(body, &pe);
    return pe.error == QJsonParseError::NoError && doc.isObject() && doc.object().contains(QStringLiteral("records"));
}

class Session : public std::enable_shared_from_this<Session> {
public:
    explicit Session(tcp::socket socket) : m_stream(std::move(socket)) {}
    void start() { read(); }

private:
    void read()
    {
        m_request = {};
        http::async_read(m_stream, m_buffer, m_request, [self = shared_from_this()](beast::error_code ec, std::size_t) {
            if (!ec)
                self->answer();
        });
    }
    void answer()
    {
        const std::string &b = m_request.body();
        const bool ok = parses(QByteArray::fromRawData(b.data(), qsizetype(b.size())));
        m_response = http::response<http::string_body>(ok ? http::status::ok : http::status::bad_request, m_request.version());
        m_response.set(http::field::content_type, "application/json");
        m_response.keep_alive(m_request.keep_alive());
        m_response.body().assign(kAnswer.constData(), size_t(kAnswer.size()));
        m_response.prepare_payload();
        http::async_write(m_stream, m_response, [self = shared_from_this()](beast::error_code ec, std::size_t) {
            if (!ec && self->m_response.keep_alive())
                self->read();
        });
    }

    beast::tcp_stream m_stream;
    beast::flat_buffer m_buffer;
    http::request<http::string_body> m_request;
    http::response<http::string_body> m_response;
};

void acceptLoop(tcp::acceptor &acceptor)
{
    acceptor.async_accept([&acceptor](beast::error_code ec, tcp::socket socket) {
        if (!ec) {
            socket.set_option(tcp::no_delay(true));
            std::make_shared<Session>(std::move(socket))->start();
        }
        acceptLoop(acceptor);
    });
}

int runBeast(unsigned short port, int threads)
{
    asio::io_context io(threads);
    tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    acceptLoop(acceptor);
    std::vector<std::thread> pool;
    for (int i = 1; i < threads; ++i)
        pool.emplace_back([&io] { io.run(); });
    io.run();
    for (std::thread &t : pool)
        t.join();
    return 0;
}

} // namespace

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    if (argc < 3) {
        std::fprintf(stderr, "usage: keel-bench-http-floor qt|beast PORT [THREADS]\n");
        return 2;
    }
    const QString kind = QString::fromLocal8Bit(argv[1]);
    const auto port = static_cast<unsigned short>(std::atoi(argv[2]));
    if (kind == QLatin1String("beast"))
        return runBeast(port, argc > 3 ? std::max(1, std::atoi(argv[3])) : 1);
    QHttpServer server;
    server.route(QStringLiteral("/v1/deployments/<arg>/predict"), QHttpServerRequest::Method::Post,
                 [](const QString &, const QHttpServerRequest &r) {
                     return parses(r.body()) ? QHttpServerResponse(QByteArrayLiteral("application/json"), kAnswer)
                                             : QHttpServerResponse(QHttpServerResponse::StatusCode::BadRequest);
                 });
    if (server.listen(QHostAddress::LocalHost, port) == 0) {
        std::fprintf(stderr, "cannot listen on port %u\n", unsigned(port));
        return 1;
    }
    return app.exec();
}
