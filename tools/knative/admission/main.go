// knative-admission runs Knative Serving's own defaulting and validation (the SetDefaults and
// Validate methods of knative.dev/serving's API types, with the config-defaults, config-features
// and config-autoscaler ConfigMaps in the context, as Serving's webhook sets them up) in two modes:
//
//	knative-admission serve --listen 127.0.0.1:9443 --cert tls.crt --key tls.key --kubeconfig kc
//	    an admission webhook server (/defaulting, /resource-validation, /healthz) that reads the
//	    ConfigMaps from --config-namespace (default knative-serving) as they change;
//	knative-admission check --config cfg.json < objects.ndjson
//	    a batch checker: one JSON request per line in, one JSON verdict per line out.
//
// It is a test-environment stand-in for Serving's webhook deployment (which needs its own
// certificate controller, leader election and observability stack) and makes the same calls.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"os/signal"
	"sort"
	"sync"
	"syscall"
	"time"

	"gomodules.xyz/jsonpatch/v2"
	admissionv1 "k8s.io/api/admission/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/clientcmd"
	"knative.dev/pkg/apis"
	"knative.dev/pkg/webhook/resourcesemantics"
	apisconfig "knative.dev/serving/pkg/apis/config"
	servingv1 "knative.dev/serving/pkg/apis/serving/v1"
	servingv1beta1 "knative.dev/serving/pkg/apis/serving/v1beta1"
	asconfig "knative.dev/serving/pkg/autoscaler/config"
)

// The Serving types its webhook admits that a Capp's children can be.
var kinds = map[string]func() resourcesemantics.GenericCRD{
	"serving.knative.dev/v1/Service":            func() resourcesemantics.GenericCRD { return &servingv1.Service{} },
	"serving.knative.dev/v1/Configuration":      func() resourcesemantics.GenericCRD { return &servingv1.Configuration{} },
	"serving.knative.dev/v1/Route":              func() resourcesemantics.GenericCRD { return &servingv1.Route{} },
	"serving.knative.dev/v1/Revision":           func() resourcesemantics.GenericCRD { return &servingv1.Revision{} },
	"serving.knative.dev/v1beta1/DomainMapping": func() resourcesemantics.GenericCRD { return &servingv1beta1.DomainMapping{} },
}

// The ConfigMaps whose contents Serving's webhook puts in the context.
const (
	defaultsConfigMap   = "config-defaults"
	featuresConfigMap   = "config-features"
	autoscalerConfigMap = "config-autoscaler"
)

// buildConfig parses the three ConfigMaps' data as Serving does; a missing one means its defaults.
func buildConfig(data map[string]map[string]string) (*apisconfig.Config, error) {
	defaults, err := apisconfig.NewDefaultsConfigFromMap(orEmpty(data[defaultsConfigMap]))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", defaultsConfigMap, err)
	}
	features, err := apisconfig.NewFeaturesConfigFromMap(orEmpty(data[featuresConfigMap]))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", featuresConfigMap, err)
	}
	autoscaler, err := asconfig.NewConfigFromMap(orEmpty(data[autoscalerConfigMap]))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", autoscalerConfigMap, err)
	}
	return &apisconfig.Config{Defaults: defaults, Features: features, Autoscaler: autoscaler}, nil
}

func orEmpty(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

// request is what one admission call needs, whether it came over HTTP or from a batch line.
type request struct {
	kind      string
	operation admissionv1.Operation
	object    []byte
	oldObject []byte
	user      *authenticationv1.UserInfo
	dryRun    bool
}

func decode(kind string, raw []byte) (resourcesemantics.GenericCRD, error) {
	newObj, ok := kinds[kind]
	if !ok {
		return nil, fmt.Errorf("unhandled kind: %s", kind)
	}
	obj := newObj()
	if err := json.Unmarshal(raw, obj); err != nil {
		return nil, fmt.Errorf("cannot decode incoming object: %w", err)
	}
	return obj, nil
}

// contextFor is the context Serving's webhook gives SetDefaults and Validate.
func contextFor(cfg *apisconfig.Config, r request, old resourcesemantics.GenericCRD) context.Context {
	ctx := apisconfig.ToContext(context.Background(), cfg)
	if r.user != nil {
		ctx = apis.WithUserInfo(ctx, r.user)
	}
	if r.dryRun {
		ctx = apis.WithDryRun(ctx)
	}
	if old != nil {
		return apis.WithinUpdate(ctx, old)
	}
	return apis.WithinCreate(ctx)
}

// defaultObject applies SetDefaults (and, with a user, the creator/lastModifier annotations) and
// returns the JSON patch from the incoming bytes to the result, as the defaulting webhook does.
func defaultObject(cfg *apisconfig.Config, r request) ([]jsonpatch.Operation, resourcesemantics.GenericCRD, error) {
	obj, err := decode(r.kind, r.object)
	if err != nil {
		return nil, nil, err
	}
	var old resourcesemantics.GenericCRD
	if len(r.oldObject) > 0 {
		if old, err = decode(r.kind, r.oldObject); err != nil {
			return nil, nil, err
		}
		old.SetDefaults(contextFor(cfg, request{}, nil))
		annotateUser(r.user, old, nil)
	}
	ctx := contextFor(cfg, r, old)
	obj.SetDefaults(ctx)
	annotateUser(r.user, obj, old)
	after, err := json.Marshal(obj)
	if err != nil {
		return nil, nil, err
	}
	patch, err := jsonpatch.CreatePatch(r.object, after)
	return patch, obj, err
}

// annotateUser sets <group>/creator and <group>/lastModifier as Serving's defaulting webhook does:
// both on create, lastModifier on an update that changes the spec.
func annotateUser(user *authenticationv1.UserInfo, obj, old resourcesemantics.GenericCRD) {
	if user == nil {
		return
	}
	withSpec, ok := obj.(apis.HasSpec)
	if !ok {
		return
	}
	group := "serving.knative.dev"
	meta := obj.(metav1.Object)
	annotations := meta.GetAnnotations()
	if annotations == nil {
		annotations = map[string]string{}
	}
	if old != nil {
		oldSpec, _ := json.Marshal(old.(apis.HasSpec).GetUntypedSpec())
		newSpec, _ := json.Marshal(withSpec.GetUntypedSpec())
		if string(oldSpec) == string(newSpec) {
			return
		}
	} else {
		annotations[group+apis.CreatorAnnotationSuffix] = user.Username
	}
	annotations[group+apis.UpdaterAnnotationSuffix] = user.Username
	meta.SetAnnotations(annotations)
}

// cause is one diagnostic of Validate, as apis.FieldError carries it.
type cause struct {
	Message string   `json:"message"`
	Paths   []string `json:"paths,omitempty"`
	Details string   `json:"details,omitempty"`
}

// validateObject runs Validate on the (already defaulted) object: errors deny, warnings do not.
func validateObject(cfg *apisconfig.Config, r request, obj resourcesemantics.GenericCRD) (errs, warns *apis.FieldError, err error) {
	var old resourcesemantics.GenericCRD
	if len(r.oldObject) > 0 {
		if old, err = decode(r.kind, r.oldObject); err != nil {
			return nil, nil, err
		}
	}
	result := obj.Validate(contextFor(cfg, r, old))
	if result == nil {
		return nil, nil, nil
	}
	return result.Filter(apis.ErrorLevel), result.Filter(apis.WarningLevel), nil
}

func causesOf(fe *apis.FieldError) []cause {
	if fe == nil {
		return nil
	}
	var out []cause
	for _, e := range fe.WrappedErrors() {
		paths := append([]string(nil), e.Paths...)
		sort.Strings(paths)
		out = append(out, cause{Message: e.Message, Paths: paths, Details: e.Details})
	}
	return out
}

func messages(fe *apis.FieldError) []string {
	var out []string
	for _, e := range causesOf(fe) {
		out = append(out, fmt.Sprintf("%s: %v", e.Message, e.Paths))
	}
	return out
}

// ---------------------------------------------------------------------------------------------
// serve

type configHolder struct {
	mu  sync.RWMutex
	cfg *apisconfig.Config
}

func (h *configHolder) get() *apisconfig.Config {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return h.cfg
}

func (h *configHolder) set(cfg *apisconfig.Config) {
	h.mu.Lock()
	h.cfg = cfg
	h.mu.Unlock()
}

// watchConfig keeps holder in step with the ConfigMaps in namespace; an invalid ConfigMap keeps the
// last valid configuration (and is logged), as Serving's config store does.
func watchConfig(ctx context.Context, client kubernetes.Interface, namespace string, holder *configHolder) error {
	factory := informers.NewSharedInformerFactoryWithOptions(client, 10*time.Minute, informers.WithNamespace(namespace))
	informer := factory.Core().V1().ConfigMaps()
	lister := informer.Lister().ConfigMaps(namespace)
	rebuild := func() {
		data := map[string]map[string]string{}
		for _, name := range []string{defaultsConfigMap, featuresConfigMap, autoscalerConfigMap} {
			if cm, err := lister.Get(name); err == nil {
				data[name] = cm.Data
			}
		}
		cfg, err := buildConfig(data)
		if err != nil {
			logEvent("config-invalid", map[string]any{"namespace": namespace, "error": err.Error()})
			return
		}
		holder.set(cfg)
		logEvent("config-loaded", map[string]any{"namespace": namespace, "features": data[featuresConfigMap]})
	}
	handler := cache.ResourceEventHandlerFuncs{
		AddFunc:    func(any) { rebuild() },
		UpdateFunc: func(any, any) { rebuild() },
		DeleteFunc: func(any) { rebuild() },
	}
	if _, err := informer.Informer().AddEventHandler(handler); err != nil {
		return err
	}
	factory.Start(ctx.Done())
	for kind, ok := range factory.WaitForCacheSync(ctx.Done()) {
		if !ok {
			return fmt.Errorf("cache of %v did not sync", kind)
		}
	}
	rebuild()
	return nil
}

func logEvent(event string, fields map[string]any) {
	line := map[string]any{"time": time.Now().UTC().Format(time.RFC3339Nano), "event": event}
	for k, v := range fields {
		line[k] = v
	}
	b, _ := json.Marshal(line)
	fmt.Fprintln(os.Stderr, string(b))
}

func kindOf(req *admissionv1.AdmissionRequest) string {
	return req.Kind.Group + "/" + req.Kind.Version + "/" + req.Kind.Kind
}

func denied(message string) *admissionv1.AdmissionResponse {
	return &admissionv1.AdmissionResponse{
		Allowed: false,
		Result: &metav1.Status{
			Status: metav1.StatusFailure, Message: message, Reason: metav1.StatusReasonBadRequest, Code: http.StatusBadRequest,
		},
	}
}

func toRequest(req *admissionv1.AdmissionRequest) request {
	return request{
		kind: kindOf(req), operation: req.Operation, object: req.Object.Raw, oldObject: req.OldObject.Raw,
		user: &req.UserInfo, dryRun: req.DryRun != nil && *req.DryRun,
	}
}

func admitDefaulting(cfg *apisconfig.Config, req *admissionv1.AdmissionRequest) *admissionv1.AdmissionResponse {
	if req.Operation != admissionv1.Create && req.Operation != admissionv1.Update {
		return &admissionv1.AdmissionResponse{Allowed: true}
	}
	patch, _, err := defaultObject(cfg, toRequest(req))
	if err != nil {
		return denied(fmt.Sprintf("mutation failed: %v", err))
	}
	body, err := json.Marshal(patch)
	if err != nil {
		return denied(fmt.Sprintf("mutation failed: %v", err))
	}
	patchType := admissionv1.PatchTypeJSONPatch
	return &admissionv1.AdmissionResponse{Allowed: true, Patch: body, PatchType: &patchType}
}

func admitValidation(cfg *apisconfig.Config, req *admissionv1.AdmissionRequest) *admissionv1.AdmissionResponse {
	if req.Operation != admissionv1.Create && req.Operation != admissionv1.Update || req.SubResource != "" {
		return &admissionv1.AdmissionResponse{Allowed: true}
	}
	r := toRequest(req)
	obj, err := decode(r.kind, r.object)
	if err != nil {
		return denied(fmt.Sprintf("decoding request failed: %v", err))
	}
	errs, warns, err := validateObject(cfg, r, obj)
	if err != nil {
		return denied(fmt.Sprintf("decoding request failed: %v", err))
	}
	var resp *admissionv1.AdmissionResponse
	if errs != nil {
		resp = denied(fmt.Sprintf("validation failed: %v", errs))
	} else {
		resp = &admissionv1.AdmissionResponse{Allowed: true}
	}
	for _, w := range warns.WrappedErrors() {
		resp.Warnings = append(resp.Warnings, w.Error())
	}
	return resp
}

func admissionHandler(holder *configHolder, admit func(*apisconfig.Config, *admissionv1.AdmissionRequest) *admissionv1.AdmissionResponse) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var review admissionv1.AdmissionReview
		if err := json.NewDecoder(io.LimitReader(r.Body, 8<<20)).Decode(&review); err != nil || review.Request == nil {
			http.Error(w, "not an AdmissionReview", http.StatusBadRequest)
			return
		}
		resp := admit(holder.get(), review.Request)
		resp.UID = review.Request.UID
		logEvent("admission", map[string]any{
			"path": r.URL.Path, "kind": review.Request.Kind.Kind, "namespace": review.Request.Namespace,
			"name": review.Request.Name, "operation": review.Request.Operation, "allowed": resp.Allowed,
		})
		review.Request = nil
		review.Response = resp
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(review)
	}
}

func serve(args []string) error {
	fs := flag.NewFlagSet("serve", flag.ExitOnError)
	listen := fs.String("listen", "127.0.0.1:9443", "address to serve HTTPS on")
	certFile := fs.String("cert", "", "serving certificate (PEM)")
	keyFile := fs.String("key", "", "serving key (PEM)")
	kubeconfig := fs.String("kubeconfig", "", "kubeconfig of the cluster whose ConfigMaps to read")
	namespace := fs.String("config-namespace", "knative-serving", "namespace of config-defaults, config-features, config-autoscaler")
	_ = fs.Parse(args)
	if *certFile == "" || *keyFile == "" || *kubeconfig == "" {
		return errors.New("--cert, --key and --kubeconfig are required")
	}
	restConfig, err := clientcmd.BuildConfigFromFlags("", *kubeconfig)
	if err != nil {
		return err
	}
	client, err := kubernetes.NewForConfig(restConfig)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	initial, _ := buildConfig(nil)
	holder := &configHolder{cfg: initial}
	if err := watchConfig(ctx, client, *namespace, holder); err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.Handle("/defaulting", admissionHandler(holder, admitDefaulting))
	mux.Handle("/resource-validation", admissionHandler(holder, admitValidation))
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok")) })
	server := &http.Server{Addr: *listen, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = server.Shutdown(shutdown)
	}()
	logEvent("serving", map[string]any{"listen": *listen})
	if err := server.ListenAndServeTLS(*certFile, *keyFile); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// ---------------------------------------------------------------------------------------------
// check

// checkRequest is one line of the batch input: an object (and for an update its old version).
type checkRequest struct {
	ID        string          `json:"id"`
	Object    json.RawMessage `json:"object"`
	OldObject json.RawMessage `json:"oldObject,omitempty"`
}

// checkResult is one line of the batch output.
type checkResult struct {
	ID       string          `json:"id"`
	Kind     string          `json:"kind,omitempty"`
	Allowed  bool            `json:"allowed"`
	Message  string          `json:"message,omitempty"`
	Causes   []cause         `json:"causes,omitempty"`
	Warnings []string        `json:"warnings,omitempty"`
	Object   json.RawMessage `json:"object,omitempty"`
}

func check(args []string) error {
	fs := flag.NewFlagSet("check", flag.ExitOnError)
	configFile := fs.String("config", "", `JSON {"config-features": {...}, "config-defaults": {...}, "config-autoscaler": {...}}`)
	_ = fs.Parse(args)
	data := map[string]map[string]string{}
	if *configFile != "" {
		raw, err := os.ReadFile(*configFile)
		if err != nil {
			return err
		}
		if err := json.Unmarshal(raw, &data); err != nil {
			return fmt.Errorf("%s: %w", *configFile, err)
		}
	}
	cfg, err := buildConfig(data)
	if err != nil {
		return err
	}
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 16<<20)
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	enc := json.NewEncoder(out)
	for in.Scan() {
		if len(in.Bytes()) == 0 {
			continue
		}
		if err := enc.Encode(checkOne(cfg, in.Bytes())); err != nil {
			return err
		}
		if err := out.Flush(); err != nil {
			return err
		}
	}
	return in.Err()
}

func checkOne(cfg *apisconfig.Config, line []byte) checkResult {
	var req checkRequest
	if err := json.Unmarshal(line, &req); err != nil {
		return checkResult{Message: "not a request line: " + err.Error()}
	}
	var meta metav1.TypeMeta
	_ = json.Unmarshal(req.Object, &meta)
	kind := meta.APIVersion + "/" + meta.Kind
	res := checkResult{ID: req.ID, Kind: kind}
	r := request{kind: kind, operation: admissionv1.Create, object: req.Object, oldObject: req.OldObject}
	if len(req.OldObject) > 0 {
		r.operation = admissionv1.Update
	}
	_, obj, err := defaultObject(cfg, r)
	if err != nil {
		res.Message = "mutation failed: " + err.Error()
		return res
	}
	errs, warns, err := validateObject(cfg, r, obj)
	if err != nil {
		res.Message = err.Error()
		return res
	}
	res.Warnings = messages(warns)
	if errs != nil {
		res.Message = "validation failed: " + errs.Error()
		res.Causes = causesOf(errs)
		return res
	}
	res.Allowed = true
	res.Object, _ = json.Marshal(obj)
	return res
}

func main() {
	log.SetFlags(0)
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: knative-admission serve|check [flags]")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "serve":
		err = serve(os.Args[2:])
	case "check":
		err = check(os.Args[2:])
	default:
		err = fmt.Errorf("unknown command %q (serve, check)", os.Args[1])
	}
	if err != nil {
		log.Fatal(err)
	}
}
