from django.http import HttpResponse

from shop.util import run_hook


def hook(request):
    run_hook(request.POST["hook"])
    return HttpResponse("ok")
