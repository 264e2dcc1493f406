"""Django admin: the rulebook, profiles and decisions are visible but read-only here. Every
change goes through ``compliance.services`` so that four eyes, history and the audit chain
cannot be bypassed from the admin."""

from django.contrib import admin

from compliance.models import (
    AccessDecision,
    AccountProfile,
    AccountProfileVersion,
    RulebookVersion,
    RuleRevision,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(RuleRevision)
class RuleRevisionAdmin(ReadOnlyAdmin):
    list_display = ("rule_id", "revision", "status", "effect", "created_by", "approved_by")
    list_filter = ("status", "effect")
    search_fields = ("rule_id", "citation_ref")


@admin.register(RulebookVersion)
class RulebookVersionAdmin(ReadOnlyAdmin):
    list_display = ("version", "published_at", "published_by")


@admin.register(AccountProfile)
class AccountProfileAdmin(ReadOnlyAdmin):
    list_display = ("account_id", "residence_country", "entity_type", "status", "version")
    search_fields = ("account_id",)


@admin.register(AccountProfileVersion)
class AccountProfileVersionAdmin(ReadOnlyAdmin):
    list_display = ("account_id", "version", "changed_at", "changed_by")
    search_fields = ("account_id",)


@admin.register(AccessDecision)
class AccessDecisionAdmin(ReadOnlyAdmin):
    list_display = (
        "decided_at",
        "account_id",
        "client_ip",
        "product_class",
        "action",
        "effect",
        "deciding_rule",
    )
    list_filter = ("effect", "product_class", "action")
    search_fields = ("account_id", "client_ip", "decision_id")
