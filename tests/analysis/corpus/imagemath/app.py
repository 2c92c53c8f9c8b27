from flask import Flask, request
from PIL import ImageMath

app = Flask(__name__)


@app.route("/im")
def im():
    ImageMath.eval(request.args["e"])  # expect: PY-CODEI
    ImageMath.eval("a + b", a=request.args.get("a"))
    return "ok"
