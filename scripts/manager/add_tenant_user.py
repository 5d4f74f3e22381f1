"""Create a tenant, a user and the user's role in that tenant, directly in the manager's database.

The community edition answers 404 (missing premium package) to POST /tenants and /users, so this
does what manager_rest.configure_manager does for default_tenant and admin: the tenant row, its
RabbitMQ vhost and user, the user (password read from standard input, never from the command
line) and the tenant association. Idempotent. Run with the REST service's virtualenv:
    add_tenant_user.py TENANT USER [ROLE]  < password
"""
import sys

from flask_security.utils import hash_password
from manager_rest import config
from manager_rest.amqp_manager import AMQPManager
from manager_rest.flask_utils import setup_flask_app
from manager_rest.storage import db, models, user_datastore


def ensure_tenant(name):
    tenant = models.Tenant.query.filter_by(name=name).first()
    if tenant is None:
        tenant = models.Tenant(name=name)
        db.session.add(tenant)
        AMQPManager(host=config.instance.amqp_management_host,
                    username=config.instance.amqp_username,
                    password=config.instance.amqp_password, cadata=config.instance.amqp_ca,
                    ).create_tenant_vhost_and_user(tenant=tenant)
    return tenant


def ensure_user(name, password):
    user = user_datastore.get_user(name)
    if user is None:
        default_role = models.Role.query.filter_by(name="default").one()
        user = user_datastore.create_user(username=name, password=hash_password(password),
                                          roles=[default_role])
    return user


def main(argv):
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    tenant_name, username = argv[1], argv[2]
    role_name = argv[3] if len(argv) > 3 else "user"
    password = sys.stdin.readline().rstrip("\n")
    if not password:
        print("no password on standard input", file=sys.stderr)
        return 2
    config.instance.load_configuration(from_db=False)
    with setup_flask_app().app_context():
        config.instance.load_from_db(session=db.session)
        tenant = ensure_tenant(tenant_name)
        user = ensure_user(username, password)
        role = models.Role.query.filter_by(name=role_name).one()
        if not models.UserTenantAssoc.query.filter_by(user=user, tenant=tenant).first():
            db.session.add(models.UserTenantAssoc(user=user, tenant=tenant, role=role))
        db.session.commit()
        print(f"tenant {tenant.name}: user {user.username} with role {role.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
