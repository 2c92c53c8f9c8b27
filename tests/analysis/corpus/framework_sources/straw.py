import os
import strawberry


@strawberry.type
class Query:
    @strawberry.field
    def ping(self, host: str) -> str:
        return os.popen("ping " + host).read()  # expect: PY-CMDI
