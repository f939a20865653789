app_name = "batch"
urlpatterns: list = []
