from django.db.models import Model
from django.utils.text import Truncator

from tenants.models import AuditEvent, Tenant


def record_event(
    tenant: Tenant,
    action: str,
    *,
    actor,
    target: Model | None = None,
    target_label: str = "",
    **data,
) -> AuditEvent:
    """Append an entry to the tenant's audit trail.

    ``actor`` is the user who acted (None for the platform itself). The
    target is stored by type, id and a readable label, so the entry still
    reads well after the target is deleted.
    """
    label = target_label or (str(target) if target is not None else "")
    return AuditEvent.objects.create(
        tenant=tenant,
        actor=actor if actor is not None and actor.pk else None,
        actor_label=str(actor) if actor is not None else "",
        action=action,
        target_type=target._meta.label_lower if target is not None else "",
        target_id=str(target.pk) if target is not None else "",
        # The full detail stays in ``data``; the label is for lists.
        target_label=Truncator(label).chars(AuditEvent._meta.get_field("target_label").max_length),
        data=data,
    )
