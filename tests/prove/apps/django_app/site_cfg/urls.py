from django.urls import path

from shop import views

urlpatterns = [
    path("search/", views.search),
    path("search-safe/", views.search_safe),
    path("page/", views.page),
]
