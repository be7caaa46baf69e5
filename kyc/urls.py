from django.contrib import admin
from django.urls import path

from kyc import views

admin.site.site_header = "KYC case management"
admin.site.site_title = "KYC"
admin.site.index_title = "Back office"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("documents/<uuid:document_id>/image/", views.document_image, name="document-image"),
    path("portraits/<int:portrait_id>/image/", views.portrait_image, name="portrait-image"),
]
