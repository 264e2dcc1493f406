from django.urls import path

from custody.api import views

urlpatterns = [
    path("custody/deposits", views.DepositView.as_view(), name="custody-deposits"),
    path("custody/withdrawals", views.WithdrawalView.as_view(), name="custody-withdrawals"),
    path(
        "custody/withdrawals/<str:withdrawal_id>",
        views.WithdrawalStatusView.as_view(),
        name="custody-withdrawal",
    ),
    path("custody/transfers", views.TransferView.as_view(), name="custody-transfers"),
    path(
        "custody/transfer-batches",
        views.TransferBatchView.as_view(),
        name="custody-transfer-batches",
    ),
    path(
        "custody/accounts/<str:account_id>/balances",
        views.AccountBalancesView.as_view(),
        name="custody-balances",
    ),
    path("custody/statements", views.StatementView.as_view(), name="custody-statements"),
    path(
        "custody/reconciliation-breaks",
        views.BreakListView.as_view(),
        name="custody-breaks",
    ),
    path(
        "custody/reconciliation-breaks/<int:break_id>/resolve",
        views.BreakResolveView.as_view(),
        name="custody-break-resolve",
    ),
    path("custody/segregation", views.SegregationView.as_view(), name="custody-segregation"),
    path(
        "custody/proof-of-reserves/<str:account_id>",
        views.ProofOfReservesView.as_view(),
        name="custody-proof-of-reserves",
    ),
]
