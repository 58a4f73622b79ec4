package app

import (
	"cmp"
	"context"
	"reflect"
	"slices"
	"testing"

	"github.com/rampart/rampart/internal/api"
	iamapi "github.com/rampart/rampart/internal/api/iam"
	kmsapi "github.com/rampart/rampart/internal/api/kms"
	organizationsapi "github.com/rampart/rampart/internal/api/organizations"
	secretsmanagerapi "github.com/rampart/rampart/internal/api/secretsmanager"
	stsapi "github.com/rampart/rampart/internal/api/sts"
	"github.com/rampart/rampart/internal/awsproto"
	"github.com/rampart/rampart/internal/service"
)

// operationsInterfaces maps each service with generated types to its
// generated Operations interface. A service whose types are generated
// (apigen -served) belongs here; TestOperationsInterface fails until it is.
var operationsInterfaces = map[*awsproto.Service]reflect.Type{
	iamapi.Service:            reflect.TypeFor[iamapi.Operations](),
	kmsapi.Service:            reflect.TypeFor[kmsapi.Operations](),
	organizationsapi.Service:  reflect.TypeFor[organizationsapi.Operations](),
	secretsmanagerapi.Service: reflect.TypeFor[secretsmanagerapi.Operations](),
	stsapi.Service:            reflect.TypeFor[stsapi.Operations](),
}

var (
	contextType = reflect.TypeFor[context.Context]()
	errorType   = reflect.TypeFor[error]()
	emptyType   = reflect.TypeFor[*awsproto.Empty]()
)

// modelType is the Go type a handler takes or returns for shape s: a
// pointer to the generated struct, or *awsproto.Empty when the model
// declares none (service.Handle enforces the same).
func modelType(s *awsproto.Shape) reflect.Type {
	if s == nil {
		return emptyType
	}
	return reflect.PointerTo(s.GoType)
}

// checkMethod checks that iface has a method named op.Name with the
// signature func(context.Context, in) (out, error).
func checkMethod(t *testing.T, iface reflect.Type, op *awsproto.Operation, in, out reflect.Type) {
	t.Helper()
	m, ok := iface.MethodByName(op.Name)
	if !ok {
		t.Errorf("%s.%s: %v has no method %s", op.Service.Name, op.Name, iface, op.Name)
		return
	}
	ft := m.Type
	if ft.NumIn() != 2 || ft.In(0) != contextType || ft.In(1) != in ||
		ft.NumOut() != 2 || ft.Out(0) != out || ft.Out(1) != errorType || ft.IsVariadic() {
		t.Errorf("%s.%s: %v.%s is %v, want func(context.Context, %v) (%v, error)", op.Service.Name, op.Name, iface, op.Name, ft, in, out)
	}
}

// TestOperationsInterface keeps the generated Operations interfaces and the
// registered handlers in step: every served operation is a method of its
// service's interface taking the handler's input and returning its output,
// and every interface lists exactly the operations of its model.
func TestOperationsInterface(t *testing.T) {
	hs := Registry(Deps{}).Handlers()
	if len(hs) == 0 {
		t.Fatal("no operation is served")
	}
	slices.SortFunc(hs, func(a, b *service.Handler) int {
		return cmp.Or(cmp.Compare(a.Operation.Service.Name, b.Operation.Service.Name), cmp.Compare(a.Operation.Name, b.Operation.Name))
	})
	for _, h := range hs {
		op := h.Operation
		iface, ok := operationsInterfaces[op.Service]
		if !ok {
			t.Errorf("%s.%s is served but %s has no Operations interface in operationsInterfaces", op.Service.Name, op.Name, op.Service.Name)
			continue
		}
		// The input is what the codec decodes into, NewInput's *I. The
		// output type O of service.Handle is not kept by the Handler;
		// Handle panics at registration unless O is the model's output
		// type (or awsproto.Empty when there is none), so that is O.
		checkMethod(t, iface, op, reflect.TypeOf(h.NewInput()), modelType(op.Output))
	}

	// Every service with generated types has its interface here, and each
	// interface has one method per operation of the model, with the
	// model's input and output types: the operations not served yet too.
	generated := 0
	for _, svc := range api.Services() {
		iface, ok := operationsInterfaces[svc]
		if !ok {
			for _, op := range svc.Operations {
				if op.Input != nil || op.Output != nil {
					t.Errorf("%s has generated types but no Operations interface in operationsInterfaces", svc.Name)
					break
				}
			}
			continue
		}
		generated++
		if iface.Kind() != reflect.Interface {
			t.Errorf("%s: %v is not an interface", svc.Name, iface)
			continue
		}
		if got, want := iface.NumMethod(), len(svc.Operations); got != want {
			t.Errorf("%s: %v has %d methods, the model %d operations", svc.Name, iface, got, want)
		}
		for _, op := range svc.Operations {
			checkMethod(t, iface, op, modelType(op.Input), modelType(op.Output))
		}
	}
	if generated != len(operationsInterfaces) {
		t.Errorf("%d of the %d services in operationsInterfaces are in api.Services()", generated, len(operationsInterfaces))
	}
}
