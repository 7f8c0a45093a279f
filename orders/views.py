import json
import uuid
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from reseller.money import format_money, format_number
from reseller.pagination import KeysFirstPaginator
from reseller.wallet.selectors import wallet_balance

from .cancels import cancel_problem, orders_cancel
from .errors import OrderError
from .fields import FIELD_NAMES, form_fields, order_details
from .forms import OrderForm
from .mass import mass_check, mass_fingerprint, mass_place, mass_progress
from .models import CustomerStatus, MassOrder
from .placement import order_place, order_preview, order_problems
from .refills import refill_problem, refill_request, refill_request_many
from .selectors import (
    order_get_for_user,
    order_list_for_user,
    order_timeline,
    orders_for_user_by_public_id,
)

STOP_POLLING = 286  # htmx stops an `every` trigger on this status


@login_required
@require_http_methods(["GET", "POST"])
def order_new(request):
    initial = {
        "category": request.GET.get("category"),
        "service": request.GET.get("service"),  # the catalog's Order button
        "client_token": uuid.uuid4().hex,
    }
    form = OrderForm(request.POST or None, initial=initial)
    if request.htmx and request.htmx.trigger_name == "category":
        form = OrderForm(initial={"category": request.GET.get("category")})  # no errors yet: nothing typed
        return render(request, "orders/order_new.html#service-field", {"form": form})
    if request.htmx and request.htmx.trigger_name == "service":  # its own fields, and its quote
        return render(
            request, "orders/order_new.html#service-change", _order_form_context(request, request.GET)
        )
    errors = {}
    if request.method == "POST" and form.is_valid():
        service = form.cleaned_data["service"]
        try:
            order = order_place(
                user=request.user,
                service=service,
                client_token=form.cleaned_data["client_token"],
                **_typed(request.POST),
            )
        except OrderError as exc:
            errors = order_problems(service=service, data=request.POST) if exc.field else {}
            drawn = {field.name for field in form_fields(service, request.POST, {})}
            for field in set(errors) - drawn:  # a field the form no longer shows (drip-feed switched off)
                form.add_error(None, errors.pop(field))
            if not errors and not form.errors:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            text = _("Order %(id)s placed: %(quantity)s for %(charge)s.")
            values = {
                "id": order.pk,
                "quantity": format_number(order.quantity),
                "charge": format_money(order.charge),
            }
            messages.success(request, text % values)
            return redirect(order)
    data = request.POST if form.is_bound else _initial_service(initial)
    context = {"form": form, **_order_form_context(request, data, errors=errors, typed=form.is_bound)}
    failed = form.errors or errors
    return render(request, "orders/order_new.html", context, status=422 if failed else 200)


@login_required
@require_GET
def quote(request):
    return render(request, "orders/order_new.html#quote", _order_form_context(request, request.GET))


def _initial_service(initial) -> dict:
    """The service chosen by link (`?service=13`), before anything is typed."""
    return {"service": initial["service"]} if initial["service"] else {}


def _typed(data) -> dict:
    """The order's own fields as typed (every type's; placement reads those of the service's type)."""
    return {name: data.get(name) for name in FIELD_NAMES if name in data}


def _order_form_context(request, data, *, errors=None, typed=True) -> dict:
    """The chosen service's fields (with what was typed and each one's problem) and the order summary:
    the price, the total and the balance after it. Nothing is complained about before anything is typed."""
    service = _chosen_service(data)
    quote = order_preview(user=request.user, service=service, data=data) if service else {}
    if quote and not typed:
        quote["errors"] = {}
    # Under the fields, only what is typed is complained about (the quote says what the total waits for);
    # a refused submission passes every problem in `errors`.
    typed_problems = {
        field: message
        for field, message in quote.get("errors", {}).items()
        if str(data.get(field) or "").strip()
    }
    problems = {**typed_problems, **(errors or {})}
    return {"quote": quote, "type_fields": form_fields(service, data, problems)}


def _chosen_service(data):
    if not data:
        return None
    form = OrderForm(data)
    form.is_valid()
    return form.cleaned_data.get("service")


@login_required
@require_http_methods(["GET", "POST"])
def mass_new(request):
    """The mass order page: "Check" shows every line's service, price and problem; "Place" places the
    valid lines, all at once or none."""
    text = request.POST.get("lines", "")
    context = {
        "text": text,
        "client_token": request.POST.get("client_token") or uuid.uuid4().hex,
        "example": "1 | https://instagram.com/p/abc | 1000",
    }
    if request.method == "POST":
        if request.POST.get("place"):
            try:
                mass = mass_place(
                    user=request.user,
                    text=text,
                    client_token=context["client_token"],
                    checked=request.POST.get("checked", ""),
                )
            except OrderError as exc:
                context["error"] = exc.message
            else:
                return redirect(mass)
        context["check"] = mass_check(user=request.user, text=text)
        context["checked"] = mass_fingerprint(text)
    failed = request.method == "POST" and (context.get("error") or context["check"].problem)
    return render(request, "orders/mass_new.html", context, status=422 if failed else 200)


@login_required
@require_GET
def mass_detail(request, public_id):
    """A mass order's lines, each with its order or its problem, and its orders' progress upstream:
    the progress part polls itself until every order reached the provider."""
    mass = get_object_or_404(MassOrder, user=request.user, public_id=public_id)
    context = {"mass": mass, "progress": mass_progress(mass=mass)}
    if request.htmx and not request.htmx.boosted:
        response = render(request, "orders/mass_detail.html#mass-progress", context)
        if context["progress"]["finished"]:
            response.status_code = STOP_POLLING
        return response
    return render(request, "orders/mass_detail.html", context)


@login_required
@require_GET
def order_list(request):
    status = request.GET.get("status", "")
    status = status if status in CustomerStatus.values else ""
    search = request.GET.get("q", "")[:200]
    orders = order_list_for_user(user=request.user, status=status, search=search)
    filters = {"status": status, "q": search}
    page = KeysFirstPaginator(orders, settings.ORDERS_PAGE_SIZE).get_page(request.GET.get("page"))
    _with_actions(page.object_list)
    context = {
        "page": page,
        "any_refillable": any(order.refill_problem is None for order in page.object_list),
        "live_ids": [order.public_id for order in page.object_list if order.is_live],
        "status": status,
        "search": search,
        "statuses": CustomerStatus.choices,
        "query": urlencode({name: value for name, value in filters.items() if value}),
    }
    template = "orders/order_list.html"
    if request.htmx and not request.htmx.boosted:
        template += "#order-table"
    return render(request, template, context)


@login_required
@require_GET
def order_detail(request, public_id):
    order = order_get_for_user(user=request.user, public_id=public_id)
    _with_actions([order])
    context = {"order": order, "timeline": order_timeline(order=order), "order_fields": order_details(order)}
    return render(request, "orders/order_detail.html", context)


@login_required
@require_GET
def order_row(request, public_id):
    """One order's live parts (a list row, or the status panel of its page), polled until nothing changes."""
    return _live_part(request, order_get_for_user(user=request.user, public_id=public_id))


@login_required
@require_GET
def orders_live(request):
    """The live orders of a list page, in one answer: their rows (swapped in by id) and the poller, which
    asks again for those still live and stops when none is."""
    public_ids = _live_ids_asked(request.GET)
    orders = orders_for_user_by_public_id(
        user=request.user, public_ids=public_ids[: settings.ORDERS_PAGE_SIZE]
    )
    _with_actions(orders)
    live_ids = [order.public_id for order in orders if order.is_live]
    context = {
        "orders": sorted(orders, key=lambda order: -order.pk),
        "live_ids": live_ids,
        "balance_changed": len(live_ids) < len(orders),
        "header_balance": wallet_balance(user=request.user),
    }
    response = render(request, "orders/order_list.html#live-rows", context)
    if not live_ids:
        response.status_code = STOP_POLLING
    return response


def _live_ids_asked(params) -> list[str]:
    """The live orders a list page names (`ids=a&ids=b`, or `ids=a,b`)."""
    return [public_id for value in params.getlist("ids") for public_id in value.split(",") if public_id]


def _live_part(request, order, notice=None):
    _with_actions([order])
    on_detail_page = request.GET.get("part") == "status"
    part = "order_detail.html#order-live" if on_detail_page else "order_list.html#row-answer"
    context = {
        "order": order,
        "notice": notice,
        "header_balance": wallet_balance(user=request.user),
        "oob_balance": order.is_final,
    }
    if on_detail_page:
        context["timeline"] = order_timeline(order=order)
    else:  # the list's poller, told whether this row is live now (a refill just opened, a cancel asked)
        others = [
            public_id
            for public_id in _live_ids_asked(request.POST or request.GET)
            if public_id != order.public_id
        ]
        context["live_ids"] = [*others, order.public_id] if order.is_live else others
    response = render(request, f"orders/{part}", context)
    if not order.is_live:
        response.status_code = STOP_POLLING
    return response


def _with_actions(orders) -> None:
    """What the customer may do with each order now (the buttons shown), and why not."""
    for order in orders:
        order.refill_problem = refill_problem(order=order)
        order.cancel_problem = cancel_problem(order=order)


@login_required
@require_POST
def refill(request, public_id):
    order = order_get_for_user(user=request.user, public_id=public_id)
    try:
        refill_request(user=request.user, order=order)
    except OrderError as exc:
        return _after_action(request, order, messages.ERROR, exc.message)
    return _after_action(request, order, messages.SUCCESS, _("Refill requested."))


@login_required
@require_POST
def cancel(request, public_id):
    order = order_get_for_user(user=request.user, public_id=public_id)
    result = orders_cancel(user=request.user, orders=[order])[order.pk]
    if isinstance(result, OrderError):
        return _after_action(request, order, messages.ERROR, result.message)
    text = _("Cancel requested; a refund follows once the provider confirms.")
    return _after_action(request, order, messages.SUCCESS, text)


def _after_action(request, order, level, text):
    """htmx: the updated row (saying what happened in a toast) or status panel (in place); otherwise back
    with a message."""
    if request.htmx:
        order = order_get_for_user(user=request.user, public_id=order.public_id)
        if request.GET.get("part") == "status":
            return _live_part(request, order, notice=(level == messages.ERROR, text))
        response = _live_part(request, order)
        toast = {"level": "error" if level == messages.ERROR else "success", "text": str(text)}
        response["HX-Trigger"] = json.dumps({"toast": toast})
        return response
    messages.add_message(request, level, _("Order %(id)s: %(text)s") % {"id": order.pk, "text": text})
    return redirect(order.get_absolute_url())


@login_required
@require_POST
def refill_many(request):
    orders = orders_for_user_by_public_id(user=request.user, public_ids=request.POST.getlist("order"))
    if not orders:
        messages.error(request, _("Select the orders to refill."))
    results = refill_request_many(user=request.user, orders=orders)
    done = [pk for pk, result in results.items() if not isinstance(result, OrderError)]
    if done:
        text = ngettext(
            "Refill requested for %(count)d order: %(ids)s.",
            "Refill requested for %(count)d orders: %(ids)s.",
            len(done),
        )
        messages.success(request, text % {"count": len(done), "ids": ", ".join(map(str, sorted(done)))})
    for pk, result in sorted(results.items()):
        if isinstance(result, OrderError):
            messages.error(request, _("Order %(id)s: %(text)s") % {"id": pk, "text": result.message})
    return redirect("orders:list")
