"""The smallest WSGI application, for tests of gunicorn.conf.py: no Django, no database."""


def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "5")])
    return [b"hello"]
