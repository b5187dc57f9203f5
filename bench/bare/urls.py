from django.http import HttpResponse
from django.urls import path

PAGE = b"<!doctype html><html lang=fr><title>Bonjour</title><p>Bonjour.</p></html>"


def hello(request):
    return HttpResponse(PAGE)


urlpatterns = [path("", hello)]
