from __future__ import annotations

from sqlalchemy import select

from service.connections.models import Connection, Platform
from service.connections.service import TOKEN_PURPOSE, store_token
from service.crypto import Cipher, generate_key
from service.db import Database
from service.keys.steps import rotate_encryption
from service.tenancy.models import Client
from tests.conftest import MakeTenant


async def test_rotation_reencrypts_with_the_new_key(db: Database, make_tenant: MakeTenant) -> None:
    t = await make_tenant()
    old = generate_key()
    new = generate_key()
    old_cipher = Cipher([old])
    async with db.unit_of_work(t.tenant_id) as uow:
        client = Client(tenant_id=t.tenant_id, name="c")
        uow.session.add(client)
        await uow.session.flush()
        conn = Connection(
            tenant_id=t.tenant_id,
            client_id=client.id,
            platform=Platform.FACEBOOK,
            external_id="rot-1",
            name="p",
            tasks=[],
        )
        store_token(old_cipher, conn, "EAAB-secret-page-token")
        uow.session.add(conn)
    rotated = Cipher([new, old])
    assert await rotate_encryption(db, rotated, tenant_id=t.tenant_id) >= 1
    assert await rotate_encryption(db, rotated, tenant_id=t.tenant_id) == 0  # idempotent
    async with db.unit_of_work(t.tenant_id) as uow:
        row = (
            await uow.session.scalars(select(Connection).where(Connection.external_id == "rot-1"))
        ).one()
    assert row.token_ciphertext is not None
    assert not rotated.needs_rotation(row.token_ciphertext)
    only_new = Cipher([new])
    assert (
        only_new.decrypt_text(row.token_ciphertext, tenant_id=t.tenant_id, purpose=TOKEN_PURPOSE)
        == "EAAB-secret-page-token"
    )
