# Every URL added here must be declared in zhongdu/roles.py PAGE_ACCESS as "guide:<name>".
app_name = "guide"
urlpatterns = []
