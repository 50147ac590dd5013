from django.http import HttpResponse, JsonResponse
from django.urls import include, path
from oauth2_provider.views import ProtectedResourceView


def plain(request):
    """Bare Django: the framework's limit on this machine."""
    return HttpResponse(b'{"ok": true}', content_type="application/json")


class Me(ProtectedResourceView):
    """A bearer-checked API as stock DOT checks it: the token looked up in the database."""

    def get(self, request, *args, **kwargs):
        user = request.resource_owner
        return JsonResponse({"id": user.pk, "username": user.get_username()})


urlpatterns = [
    path("plain", plain),
    path("api/me", Me.as_view()),
    path("o/", include("oauth2_provider.urls", namespace="oauth2_provider")),
]
