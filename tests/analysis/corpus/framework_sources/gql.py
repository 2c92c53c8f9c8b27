import os
import graphene


class Query(graphene.ObjectType):
    ping = graphene.String(host=graphene.String())

    def resolve_ping(self, info, host):
        return os.popen("ping " + host).read()  # expect: PY-CMDI


class Run(graphene.Mutation):
    class Arguments:
        cmd = graphene.String()

    ok = graphene.String()

    def mutate(root, info, cmd):
        os.system(cmd)  # expect: PY-CMDI
        return Run(ok="y")
