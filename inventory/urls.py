from django.urls import path

from inventory.views import staff as views

urlpatterns = [
    path("staff/inventory/", views.stock_list, name="inventory-list"),
    path("staff/inventory/low-stock/", views.low_stock, name="inventory-low-stock"),
    path("staff/inventory/new/", views.product_edit, name="inventory-new"),
    path("staff/inventory/<int:pk>/", views.product_detail, name="inventory-product"),
    path("staff/inventory/<int:pk>/edit/", views.product_edit, name="inventory-edit"),
    path("staff/inventory/<int:pk>/stock/", views.stock_change, name="inventory-stock"),
]
