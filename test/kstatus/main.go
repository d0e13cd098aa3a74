// Command kstatus prints what the kstatus library (sigs.k8s.io/cli-utils/pkg/kstatus/status, the
// one Flux's kustomize-controller, kpt and cli-utils' apply use) computes for Kubernetes objects.
// It reads one JSON object per line on stdin — as the API server returned them — and writes one JSON
// line per object: {"kind", "name", "status", "message"}. Test-only: test/integration/kstatus.test.ts
// runs it on ScimDomains and ScimTokenRotations read from a real API server.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
)

type result struct {
	Kind    string `json:"kind"`
	Name    string `json:"name"`
	Status  string `json:"status"`
	Message string `json:"message"`
}

func main() {
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 0, 1<<20), 16<<20)
	out := json.NewEncoder(os.Stdout)
	for in.Scan() {
		if len(in.Bytes()) == 0 {
			continue
		}
		// UnmarshalJSON keeps integers as int64, as kstatus's generation checks expect.
		u := &unstructured.Unstructured{}
		if err := u.UnmarshalJSON(in.Bytes()); err != nil {
			fail("reading an object: %v", err)
		}
		res, err := status.Compute(u)
		if err != nil {
			fail("kstatus of %s %s: %v", u.GetKind(), u.GetName(), err)
		}
		if err := out.Encode(result{u.GetKind(), u.GetName(), res.Status.String(), res.Message}); err != nil {
			fail("writing: %v", err)
		}
	}
	if err := in.Err(); err != nil {
		fail("reading stdin: %v", err)
	}
}

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "kstatus: "+format+"\n", args...)
	os.Exit(1)
}
