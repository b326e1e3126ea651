from django.urls import path

from . import views

app_name = "course"
urlpatterns = [
    path("", views.home, name="home"),
    path("lessons/<slug:slug>/", views.lesson_detail, name="lesson"),
    path("lessons/<slug:slug>/complete/", views.lesson_complete, name="lesson_complete"),
    path("questions/<slug:slug>/answer/", views.answer, name="answer"),
    path("quiz/", views.quiz, name="quiz"),
    path("interview/", views.interview_list, name="interview_list"),
    path("interview/<slug:slug>/", views.interview_detail, name="interview"),
    path("mistakes/", views.mistakes_list, name="mistakes"),
    path("mistakes/<slug:slug>/", views.mistake_detail, name="mistake"),
    path("debug/", views.debug_list, name="debug_list"),
    path("debug/<slug:slug>/", views.debug_detail, name="debug"),
    path("incident/", views.incident, name="incident"),
    path("export/", views.export, name="export"),
    path("compression/measure/", views.compression_measure, name="compression_measure"),
    path("signup/", views.signup, name="signup"),
]
