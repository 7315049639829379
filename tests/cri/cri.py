#!/usr/bin/python3
"""cri.py: a minimal CRI (runtime.v1) client for tests/cri.

    cri.py SOCKET METHOD [REQUEST_JSON] [--timeout SECONDS]

Calls RuntimeService/METHOD (or ImageService/METHOD) on the unix socket
SOCKET with the request given as proto3 JSON (field names as in cri.proto,
e.g. {"pod_sandbox_id": "..."}; default {}), and prints the response as JSON
with the proto field names, every field present (enums by name).

Exit status: 0 on success; 2 with "GRPC_CODE: details" on stderr when the
call fails (e.g. "NOT_FOUND: ..."); 1 on usage errors.

The message classes come from cri_pb2, which run.sh generates from
cri.proto with protoc into $CRI_PY_DIR (never committed).  The calls are
made with grpcio's generic unary_unary, so no gRPC stub generator (and no
python3-grpc-tools, whose Debian 12 version is too old for protobuf 4) is
needed.
"""
import json
import os
import sys

sys.path.insert(0, os.environ.get("CRI_PY_DIR", os.path.dirname(os.path.abspath(__file__))))

import grpc  # noqa: E402
from google.protobuf import json_format  # noqa: E402

import cri_pb2  # noqa: E402


def find_method(name):
    for service in cri_pb2.DESCRIPTOR.services_by_name.values():
        method = service.methods_by_name.get(name)
        if method is not None:
            return service, method
    raise SystemExit(f"cri.py: unknown method {name}")


def call(socket, name, request_json, timeout):
    service, method = find_method(name)
    request_class = getattr(cri_pb2, method.input_type.name)
    response_class = getattr(cri_pb2, method.output_type.name)
    request = json_format.Parse(request_json, request_class())
    with grpc.insecure_channel(f"unix://{socket}") as channel:
        rpc = channel.unary_unary(
            f"/{service.full_name}/{method.name}",
            request_serializer=request_class.SerializeToString,
            response_deserializer=response_class.FromString,
        )
        return rpc(request, timeout=timeout)


def main(argv):
    timeout = 30.0
    args = []
    it = iter(argv[1:])
    for a in it:
        if a == "--timeout":
            timeout = float(next(it))
        else:
            args.append(a)
    if len(args) not in (2, 3):
        print(__doc__, file=sys.stderr)
        return 1
    socket, name = args[0], args[1]
    request_json = args[2] if len(args) == 3 else "{}"
    try:
        response = call(socket, name, request_json, timeout)
    except grpc.RpcError as e:
        print(f"{e.code().name}: {e.details()}", file=sys.stderr)
        return 2
    except json_format.ParseError as e:
        print(f"cri.py: bad request JSON: {e}", file=sys.stderr)
        return 1
    out = json_format.MessageToDict(
        response, preserving_proto_field_name=True, including_default_value_fields=True
    )
    print(json.dumps(out, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
