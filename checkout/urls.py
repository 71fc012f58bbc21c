from django.urls import path, re_path

from checkout.views import staff as views

urlpatterns = [
    path("staff/checkout/", views.sales_list, name="checkout-sales"),
    path("staff/checkout/new/", views.new_walk_in, name="checkout-new"),
    path("staff/checkout/appointment/<int:appointment_id>/", views.appointment_checkout, name="checkout-appointment"),
    path("staff/checkout/sale/<int:pk>/", views.sale_page, name="checkout-sale"),
    path("staff/checkout/sale/<int:pk>/receipt.pdf", views.receipt_pdf, name="checkout-receipt-pdf"),
    path("staff/checkout/sale/<int:pk>/customers/", views.customer_search, name="checkout-customer-search"),
    path("staff/checkout/sale/<int:pk>/card/", views.start_card, name="checkout-start-card"),
    path("staff/checkout/sale/<int:pk>/card/<int:tender_id>/", views.card_page, name="checkout-card"),
    path("staff/checkout/sale/<int:pk>/card/<int:tender_id>/done/", views.card_done, name="checkout-card-done"),
    path("staff/checkout/sale/<int:pk>/card/<int:tender_id>/cancel/", views.cancel_card, name="checkout-card-cancel"),
    re_path(r"^staff/checkout/sale/(?P<pk>[0-9]+)/(?P<kind>refund|void)/$", views.sale_return, name="checkout-return"),
    re_path(r"^staff/checkout/sale/(?P<pk>[0-9]+)/do/(?P<action>[a-z-]+)/$", views.sale_action, name="checkout-action"),
]
