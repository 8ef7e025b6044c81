# Every URL added here must be declared in zhongdu/roles.py PAGE_ACCESS as "followup:<name>".
app_name = "followup"
urlpatterns = []
