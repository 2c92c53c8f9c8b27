from django.db import connection
from django.http import HttpResponse
from django.utils.html import escape


def search(request):
    term = request.GET.get("term", "")
    with connection.cursor() as cur:
        cur.execute("SELECT 1 WHERE 'x' = '%s'" % term)
        rows = cur.fetchall()
    return HttpResponse(f"{len(rows)} results")


def search_safe(request):
    term = request.GET.get("term", "")
    with connection.cursor() as cur:
        cur.execute("SELECT 1 WHERE 'x' = %s", [term])
        rows = cur.fetchall()
    return HttpResponse(f"{len(rows)} results for {escape(term)}")


def page(request):
    title = request.POST.get("title", "")
    return HttpResponse("<title>" + title + "</title>")
