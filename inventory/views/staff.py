"""Retail pages: the stock list of a location, the low-stock list, a product (with its moves),
product create/edit (managers) and stock changes (deliveries by the desk; adjustments and counts by
managers). Cost prices only for those allowed to see them (privacy.access Capability)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from appointments.models import Location
from inventory import forms, selectors, services
from inventory.models import Product
from privacy.access import Capability, may, require_capability


def _location(request) -> Location:
    raw = request.GET.get("location") or request.POST.get("location") or ""
    if str(raw).isdigit():
        return get_object_or_404(Location, pk=int(raw))
    location = Location.objects.order_by("pk").first()
    if location is None:
        raise Http404("No location is set up yet.")
    return location


def _context(request, **extra) -> dict:
    return {
        "show_cost": may(request.user, Capability.INVENTORY_COST),
        "can_manage": may(request.user, Capability.INVENTORY_MANAGE),
        "can_receive": may(request.user, Capability.STOCK_RECEIVE),
        "locations": Location.objects.order_by("name"),
        **extra,
    }


@login_required
@require_GET
def stock_list(request):
    require_capability(request.user, Capability.INVENTORY_READ)
    location = _location(request)
    query = request.GET.get("q", "").strip()[:60]
    products = list(selectors.products_with_stock(location, include_inactive=True, query=query))
    low = sum(1 for p in products if p.active and p.on_hand <= p.low_stock_threshold)
    return render(
        request,
        "inventory/list.html",
        _context(request, location=location, products=products, query=query, low_count=low),
    )


@login_required
@require_GET
def low_stock(request):
    require_capability(request.user, Capability.INVENTORY_READ)
    location = _location(request)
    return render(
        request,
        "inventory/low_stock.html",
        _context(request, location=location, products=selectors.low_stock(location)),
    )


@login_required
@require_GET
def product_detail(request, pk):
    require_capability(request.user, Capability.INVENTORY_READ)
    product = get_object_or_404(Product, pk=pk)
    location = _location(request)
    return render(
        request,
        "inventory/product.html",
        _context(
            request,
            product=product,
            location=location,
            on_hand=selectors.on_hand(product, location),
            moves=selectors.recent_moves(product, location),
            stock_form=forms.StockForm(initial={"action": forms.StockForm.RECEIVE}),
        ),
    )


@login_required
@require_http_methods(["GET", "POST"])
def product_edit(request, pk=None):
    require_capability(request.user, Capability.INVENTORY_MANAGE)
    product = get_object_or_404(Product, pk=pk) if pk else None
    form = forms.ProductForm(request.POST or None, instance=product)
    if request.method == "POST" and form.is_valid():
        product = services.save_product(product=product, user=request.user, **form.product_fields())
        messages.success(request, f"Saved {product.name}.")
        return redirect("inventory-product", pk=product.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, "inventory/form.html", _context(request, form=form, product=product), status=status)


@login_required
@require_POST
def stock_change(request, pk):
    product = get_object_or_404(Product, pk=pk)
    location = _location(request)
    form = forms.StockForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Enter a whole number.")
        return redirect(f"{product_url(product)}?location={location.pk}")
    data = form.cleaned_data
    action = data["action"]
    require_capability(
        request.user, Capability.STOCK_RECEIVE if action == forms.StockForm.RECEIVE else Capability.INVENTORY_MANAGE
    )
    try:
        if action == forms.StockForm.RECEIVE:
            services.receive_stock(
                product=product, location=location, quantity=data["quantity"], user=request.user, note=data["note"]
            )
        elif action == forms.StockForm.ADJUST:
            services.adjust_stock(
                product=product, location=location, quantity=data["quantity"], user=request.user, note=data["note"]
            )
        else:
            services.record_count(
                product=product, location=location, counted=data["quantity"], user=request.user, note=data["note"]
            )
    except services.InventoryError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"{product.name}: {selectors.on_hand(product, location)} on hand.")
    return redirect(f"{product_url(product)}?location={location.pk}")


def product_url(product) -> str:
    from django.urls import reverse

    return reverse("inventory-product", args=[product.pk])
