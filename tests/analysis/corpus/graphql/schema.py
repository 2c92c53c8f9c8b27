import os
import sqlite3

import graphene
import strawberry

db = sqlite3.connect("x.db")


class Query(graphene.ObjectType):
    user = graphene.Field(graphene.String, name=graphene.String())

    def resolve_user(self, info, name):
        return db.execute("SELECT * FROM users WHERE name='" + name + "'").fetchone()  # expect: PY-SQLI

    @staticmethod
    def resolve_ping(self, info, host):
        return os.system("ping -c1 " + host)  # expect: PY-CMDI

    def helper(self, name):
        return os.system("echo " + name)


class Rename(graphene.Mutation):
    class Arguments:
        path = graphene.String()

    ok = graphene.Boolean()

    def mutate(self, info, path):
        os.remove(path)  # expect: PY-PATH
        return Rename(ok=True)


@strawberry.type
class SQuery:
    @strawberry.field
    def lookup(self, info, term: str) -> str:
        db.execute(f"SELECT * FROM t WHERE x = '{term}'")  # expect: PY-SQLI
        return "ok"
