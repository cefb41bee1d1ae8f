#!/usr/bin/env python3
"""A minimal S3 endpoint that honours conditional writes, for tests only.

s3rver (the live S3-compatible server the tests run) ignores If-Match and If-None-Match on PUT, so it cannot show
that two pushes racing on one ref do not both win. AWS S3 honours them since 2024; this server does what AWS documents
for the few requests Keel's remote code makes, keeping objects in memory:
  GET/HEAD /BUCKET/KEY          the object, with its ETag (quoted MD5 hex); 404 NoSuchKey
  GET /BUCKET?list-type=2&prefix=P   ListObjectsV2, one page
  PUT /BUCKET/KEY               If-Match: ETAG -> 412 unless current (404 when absent); If-None-Match: * -> 412 if present
Signatures are not checked. Prints the port it listens on (loopback), then serves until killed.
Modes, for the client's handling of other answers: --reject-conditions answers a conditional PUT with 501
NotImplemented, as a server without conditional writes may; --busy-once answers the first conditional PUT of each
key with 409 ConditionalRequestConflict, which AWS says to retry.
"""
import hashlib
import http.server
import sys
import threading
import urllib.parse
from xml.sax.saxutils import escape

objects = {}
lock = threading.Lock()
reject_conditions = "--reject-conditions" in sys.argv
busy_once = "--busy-once" in sys.argv
busy_seen = set()


def etag_of(body):
    return '"%s"' % hashlib.md5(body).hexdigest()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, body=b"", headers=None, head=False):
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def error(self, status, code):
        self.reply(status, ("<Error><Code>%s</Code><Message>%s</Message></Error>" % (code, code)).encode())

    def split(self):
        url = urllib.parse.urlsplit(self.path)
        parts = urllib.parse.unquote(url.path).lstrip("/").split("/", 1)
        return parts[0], (parts[1] if len(parts) > 1 else ""), urllib.parse.parse_qs(url.query)

    def do_GET(self, head=False):
        bucket, key, query = self.split()
        if not key:
            prefix = query.get("prefix", [""])[0]
            with lock:
                keys = sorted(k for k in objects if k.startswith(prefix))
            items = "".join("<Contents><Key>%s</Key></Contents>" % escape(k) for k in keys)
            body = ('<?xml version="1.0" encoding="UTF-8"?><ListBucketResult><Name>%s</Name><KeyCount>%d</KeyCount>'
                    "<IsTruncated>false</IsTruncated>%s</ListBucketResult>" % (escape(bucket), len(keys), items))
            return self.reply(200, body.encode())
        with lock:
            body = objects.get(key)
        if body is None:
            return self.error(404, "NoSuchKey")
        self.reply(200, body, {"ETag": etag_of(body)}, head)

    def do_HEAD(self):
        self.do_GET(head=True)

    def do_PUT(self):
        _, key, _ = self.split()
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        match, none_match = self.headers.get("If-Match"), self.headers.get("If-None-Match")
        conditional = match is not None or none_match is not None
        if conditional and reject_conditions:
            return self.error(501, "NotImplemented")
        with lock:
            if conditional and busy_once and key not in busy_seen:
                busy_seen.add(key)
                return self.error(409, "ConditionalRequestConflict")
            current = objects.get(key)
            if match is not None and current is None:
                return self.error(404, "NoSuchKey")
            if match is not None and match != etag_of(current):
                return self.error(412, "PreconditionFailed")
            if none_match == "*" and current is not None:
                return self.error(412, "PreconditionFailed")
            objects[key] = body
        self.reply(200, b"", {"ETag": etag_of(body)})


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
