import pytest


@pytest.mark.django_db
def test_a_long_audit_label_is_shortened_and_the_detail_kept(tenant_a, alice):
    from tenants.services import record_event

    names = [f"Client number {i}" for i in range(50)]
    event = record_event(
        tenant_a, "test.bulk", actor=alice, target_label=", ".join(names), names=names
    )
    event.refresh_from_db()
    assert len(event.target_label) == 255
    assert event.target_label.endswith("…")
    assert event.data["names"] == names
