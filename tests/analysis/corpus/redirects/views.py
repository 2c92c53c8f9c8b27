"""Redirects in Django views: to the request's own path, after an allow-list check of the
target, to a URL whose host is fixed while the query is the client's, and the unchecked one."""

from urllib.parse import urlencode, urlsplit, urlunsplit

from django.http import HttpResponsePermanentRedirect, HttpResponseRedirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme


def add_slash(request):
    return HttpResponsePermanentRedirect(request.get_full_path() + "/")


def force_https(request):
    return HttpResponsePermanentRedirect("https://example.com" + request.path)


def set_language(request):
    next_url = request.POST.get("next", request.GET.get("next"))
    if (next_url or request.accepts("text/html")) and not url_has_allowed_host_and_scheme(
        url=next_url, allowed_hosts={request.get_host()}
    ):
        next_url = request.META.get("HTTP_REFERER")
        if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
            next_url = "/"
    return HttpResponseRedirect(next_url)


def login_done(request):
    target = request.GET.get("next", "/")
    if url_has_allowed_host_and_scheme(target, allowed_hosts=None):
        return HttpResponseRedirect(target)
    return HttpResponseRedirect("/")


def keep_filters(request):
    parts = list(urlsplit(reverse("admin:index")))
    parts[3] = urlencode({"q": request.GET.get("q", "")})
    return HttpResponseRedirect(urlunsplit(parts))


def chosen_host(request):
    parts = list(urlsplit(reverse("admin:index")))
    parts[1] = request.GET.get("host", "")
    return HttpResponseRedirect(urlunsplit(parts))  # expect: PY-REDIRECT


def unchecked(request):
    next_url = request.GET.get("next")
    if next_url:
        return HttpResponseRedirect(next_url)  # expect: PY-REDIRECT
    return HttpResponseRedirect("/")


def checked_other_value(request):
    next_url = request.GET.get("next", "")
    fallback = request.GET.get("fallback", "")
    if url_has_allowed_host_and_scheme(fallback, allowed_hosts=None):
        return HttpResponseRedirect(next_url)  # expect: PY-REDIRECT
    return HttpResponseRedirect("/")


def after_save(request):
    pk = request.POST["pk"]
    return HttpResponseRedirect(reverse("admin:user_change", args=(pk,)))
