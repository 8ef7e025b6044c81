from django.urls import path

from demo.floor import views

urlpatterns = [path("", views.search, name="floor_search")]
# Plain answers: the product's error pages link to the product's URLs, which are not here.
handler404 = views.not_found
