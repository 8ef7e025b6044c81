# Every URL added here must be declared in zhongdu/roles.py PAGE_ACCESS as "consult:<name>".
app_name = "consult"
urlpatterns = []
