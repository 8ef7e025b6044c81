# Every URL added here must be declared in zhongdu/roles.py PAGE_ACCESS as "clientmgmt:<name>".
app_name = "clientmgmt"
urlpatterns = []
