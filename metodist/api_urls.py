"""The REST API: being built."""

urlpatterns: list = []
