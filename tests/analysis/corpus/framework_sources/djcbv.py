import os
from django.http import HttpResponse
from django.views import View
from django.views.generic import TemplateView


class Ping(View):
    def get(self, request):
        os.system("ping " + self.request.GET["h"])  # expect: PY-CMDI
        return HttpResponse("ok")

    def post(self, *args, **kwargs):
        os.system("ping " + self.request.POST.get("h"))  # expect: PY-CMDI
        os.system("ping " + self.request.body.decode())  # expect: PY-CMDI
        os.system("ping " + self.request.META["HTTP_X"])  # expect: PY-CMDI
        os.system("ping " + self.request.COOKIES["c"])  # expect: PY-CMDI
        f = self.request.FILES["f"]
        open("/up/" + f.name, "wb")  # expect: PY-PATH
        return HttpResponse("ok")


class Page(TemplateView):
    template_name = "x.html"

    def get_context_data(self, **kwargs):
        os.system("ping " + self.request.GET.get("x", ""))  # expect: PY-CMDI
        return {}


class Safe(View):
    def get(self, request):
        os.system("echo " + self.request.method)
        return HttpResponse("ok")
