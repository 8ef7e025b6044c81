# Every URL added here must be declared in zhongdu/roles.py PAGE_ACCESS as "vip:<name>".
app_name = "vip"
urlpatterns = []
