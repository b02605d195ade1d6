// pulumi-language-python: a small Python language host of our own, used because the upstream
// host's Go module (github.com/pulumi/pulumi/sdk/python/cmd/pulumi-language-python/v3, untagged)
// is not served by the Go module proxy reachable here (see ../README.md).
//
// It speaks the engine's LanguageRuntime protocol with the generated stubs of the pinned sdk/v3,
// picks the interpreter with sdk/v3's own python/toolchain package (Pulumi.yaml runtime options
// `toolchain` and `virtualenv`, as the upstream host does), and runs the program through the
// upstream `pulumi-language-python-exec` script from the same sdk/v3 release, which build.sh puts
// next to this binary. Implemented: Handshake, GetPluginInfo, GetRequiredPackages (from the
// pulumi-plugin.json files of the installed packages), Run, InstallDependencies, About,
// GetProgramDependencies. Everything else (code generation, `pulumi new` templates, policy packs,
// the `typechecker` option) answers Unimplemented or an error.
package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"github.com/pulumi/pulumi/sdk/v3/python/toolchain"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"
)

// version is set at link time (-X main.version=...) to the Pulumi release of the sdk/v3 it uses.
var version = "dev"

// execScript is the upstream program runner, looked up next to this binary.
const execScript = "pulumi-language-python-exec"

// bailExitCode is what the exec script exits with after it has shown the user an error itself.
const bailExitCode = 32

// requiredPackagesScript lists the Pulumi resource plugins that the installed Python packages
// declare in their pulumi-plugin.json (top-level in the package, as the Pulumi SDKs ship it).
const requiredPackagesScript = `
import importlib.metadata as md, json
out = []
for dist in md.distributions():
    for f in dist.files or []:
        if f.name != "pulumi-plugin.json" or len(f.parts) != 2:
            continue
        try:
            data = json.loads(f.read_text())
        except Exception:
            continue
        if not data.get("resource"):
            continue
        name = data.get("name") or f.parts[0].removeprefix("pulumi_").replace("_", "-")
        out.append({"name": name, "version": data.get("version") or dist.version,
                    "server": data.get("server") or "",
                    "parameterization": data.get("parameterization")})
print(json.dumps(out))
`

type host struct {
	pulumirpc.UnimplementedLanguageRuntimeServer
	engineAddress string
	execPath      string
}

func main() {
	flag.String("tracing", "", "accepted for compatibility; tracing is not supported")
	flag.String("root", "", "accepted for compatibility; the engine sends the project root")
	flag.Parse()
	engineAddress := ""
	if args := flag.Args(); len(args) > 0 {
		engineAddress = args[0]
	}

	self, err := os.Executable()
	if err != nil {
		fatal(err)
	}
	if resolved, err := filepath.EvalSymlinks(self); err == nil {
		self = resolved
	}
	execPath := filepath.Join(filepath.Dir(self), execScript)
	if _, err := os.Stat(execPath); err != nil {
		fatal(fmt.Errorf("%s must sit next to this binary: %w", execScript, err))
	}

	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	if engineAddress != "" {
		// Exit if the engine goes away, as the upstream plugins do.
		if err := rpcutil.Healthcheck(ctx, engineAddress, 5*time.Minute, cancel); err != nil {
			fatal(fmt.Errorf("could not start health check for the engine: %w", err))
		}
	}
	stop := make(chan bool)
	go func() {
		<-ctx.Done()
		close(stop)
	}()

	h := &host{engineAddress: engineAddress, execPath: execPath}
	handle, err := rpcutil.ServeWithOptions(rpcutil.ServeOptions{
		Cancel: stop,
		Init: func(srv *grpc.Server) error {
			pulumirpc.RegisterLanguageRuntimeServer(srv, h)
			return nil
		},
		Options: rpcutil.OpenTracingServerInterceptorOptions(nil),
	})
	if err != nil {
		fatal(err)
	}
	// The engine reads the port from the first line of stdout.
	fmt.Printf("%d\n", handle.Port)
	if err := <-handle.Done; err != nil {
		fatal(err)
	}
}

func fatal(err error) {
	fmt.Fprintf(os.Stderr, "pulumi-language-python: %v\n", err)
	os.Exit(1)
}

// resolve picks the Python toolchain for a program from its Pulumi.yaml runtime options.
func resolve(info *pulumirpc.ProgramInfo) (toolchain.Toolchain, error) {
	if info == nil {
		return nil, errors.New("the engine sent no program info")
	}
	opts := toolchain.PythonOptions{
		Root:       info.GetRootDirectory(),
		ProgramDir: info.GetProgramDirectory(),
		Toolchain:  toolchain.Auto,
	}
	options := info.GetOptions().AsMap()
	if v, ok := options["virtualenv"].(string); ok {
		opts.Virtualenv = v
	}
	if v, ok := options["toolchain"].(string); ok {
		switch v {
		case "pip":
			opts.Toolchain = toolchain.Pip
		case "poetry":
			opts.Toolchain = toolchain.Poetry
		case "uv":
			opts.Toolchain = toolchain.Uv
		default:
			return nil, fmt.Errorf("unknown toolchain %q in the runtime options", v)
		}
	}
	if v, ok := options["typechecker"].(string); ok && v != "" {
		return nil, fmt.Errorf("the typechecker option (%q) is not supported by this language host", v)
	}
	return toolchain.ResolveToolchain(opts)
}

func (h *host) Handshake(
	_ context.Context, req *pulumirpc.LanguageHandshakeRequest,
) (*pulumirpc.LanguageHandshakeResponse, error) {
	if req.GetEngineAddress() != "" {
		h.engineAddress = req.GetEngineAddress()
	}
	return &pulumirpc.LanguageHandshakeResponse{}, nil
}

func (h *host) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: version}, nil
}

func (h *host) GetRequiredPackages(
	ctx context.Context, req *pulumirpc.GetRequiredPackagesRequest,
) (*pulumirpc.GetRequiredPackagesResponse, error) {
	tc, err := resolve(req.GetInfo())
	if err != nil {
		return nil, err
	}
	if err := tc.ValidateVenv(ctx); err != nil {
		return nil, err
	}
	cmd, err := tc.Command(ctx, "-c", requiredPackagesScript)
	if err != nil {
		return nil, err
	}
	cmd.Dir = req.GetInfo().GetProgramDirectory()
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("listing the Pulumi packages installed for Python: %w", err)
	}
	var found []struct {
		Name             string `json:"name"`
		Version          string `json:"version"`
		Server           string `json:"server"`
		Parameterization *struct {
			Name    string `json:"name"`
			Version string `json:"version"`
			Value   string `json:"value"`
		} `json:"parameterization"`
	}
	if err := json.Unmarshal(out, &found); err != nil {
		return nil, fmt.Errorf("reading the list of Pulumi packages: %w", err)
	}
	resp := &pulumirpc.GetRequiredPackagesResponse{}
	for _, p := range found {
		dep := &pulumirpc.PackageDependency{
			Name: p.Name, Kind: "resource", Version: normalizeVersion(p.Version), Server: p.Server,
		}
		if p.Parameterization != nil {
			value, err := base64.StdEncoding.DecodeString(p.Parameterization.Value)
			if err != nil {
				return nil, fmt.Errorf("package %s: bad parameterization value: %w", p.Name, err)
			}
			dep.Parameterization = &pulumirpc.PackageParameterization{
				Name: p.Parameterization.Name, Version: p.Parameterization.Version, Value: value,
			}
		}
		resp.Packages = append(resp.Packages, dep)
	}
	return resp, nil
}

// normalizeVersion turns a PEP 440 pre-release (1.2.3a4) into semver (1.2.3-alpha.4), the way
// the Pulumi Python SDKs' versions are published; plain versions pass through.
func normalizeVersion(v string) string {
	for _, tag := range []struct{ py, semver string }{{"a", "alpha"}, {"b", "beta"}, {"rc", "rc"}} {
		if i := strings.Index(v, tag.py); i > 0 && !strings.Contains(v, "-") {
			if _, err := strconv.Atoi(v[i+len(tag.py):]); err == nil {
				return v[:i] + "-" + tag.semver + "." + v[i+len(tag.py):]
			}
		}
	}
	return v
}

func (h *host) Run(ctx context.Context, req *pulumirpc.RunRequest) (*pulumirpc.RunResponse, error) {
	info := req.GetInfo()
	tc, err := resolve(info)
	if err != nil {
		return nil, err
	}
	if err := tc.ValidateVenv(ctx); err != nil {
		return &pulumirpc.RunResponse{Error: err.Error()}, nil
	}

	program := info.GetEntryPoint()
	if program == "" {
		program = req.GetProgram() //nolint:staticcheck // older engines only send this
	}
	if program == "" {
		program = "."
	}
	args := []string{
		"-u", h.execPath,
		"--monitor", req.GetMonitorAddress(),
		"--engine", h.engineAddress,
		"--project", req.GetProject(),
		"--stack", req.GetStack(),
		"--pwd", req.GetPwd(),
		"--parallel", strconv.Itoa(int(req.GetParallel())),
		"--organization", req.GetOrganization(),
		"--root_directory", info.GetRootDirectory(),
	}
	if req.GetDryRun() {
		args = append(args, "--dry_run", "true")
	}
	args = append(args, program)
	args = append(args, req.GetArgs()...)

	cmd, err := tc.Command(ctx, args...)
	if err != nil {
		return nil, err
	}
	configMap := req.GetConfig()
	if configMap == nil {
		configMap = map[string]string{} // the SDK wants an object, not null
	}
	config, err := json.Marshal(configMap)
	if err != nil {
		return nil, err
	}
	secretKeys := req.GetConfigSecretKeys()
	if secretKeys == nil {
		secretKeys = []string{}
	}
	secrets, err := json.Marshal(secretKeys)
	if err != nil {
		return nil, err
	}
	if cmd.Env == nil {
		cmd.Env = os.Environ()
	}
	cmd.Env = append(cmd.Env, "PULUMI_CONFIG="+string(config), "PULUMI_CONFIG_SECRET_KEYS="+string(secrets))
	cmd.Dir = req.GetPwd()
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr

	if err := cmd.Run(); err != nil {
		var exitErr *exec.ExitError
		if errors.As(err, &exitErr) {
			if exitErr.ExitCode() == bailExitCode {
				return &pulumirpc.RunResponse{Bail: true}, nil
			}
			return &pulumirpc.RunResponse{
				Error: fmt.Sprintf("Program exited with non-zero exit code: %d", exitErr.ExitCode()),
			}, nil
		}
		return &pulumirpc.RunResponse{Error: fmt.Sprintf("Problem executing program: %v", err)}, nil
	}
	return &pulumirpc.RunResponse{}, nil
}

// streamWriter sends what the toolchain prints back to the engine.
type streamWriter struct {
	mu     *sync.Mutex
	server pulumirpc.LanguageRuntime_InstallDependenciesServer
	stderr bool
}

func (w streamWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	data := append([]byte(nil), p...)
	resp := &pulumirpc.InstallDependenciesResponse{Stdout: data}
	if w.stderr {
		resp = &pulumirpc.InstallDependenciesResponse{Stderr: data}
	}
	if err := w.server.Send(resp); err != nil {
		return 0, err
	}
	return len(p), nil
}

func (h *host) InstallDependencies(
	req *pulumirpc.InstallDependenciesRequest, server pulumirpc.LanguageRuntime_InstallDependenciesServer,
) error {
	tc, err := resolve(req.GetInfo())
	if err != nil {
		return err
	}
	mu := &sync.Mutex{}
	var stdout, stderr io.Writer = streamWriter{mu, server, false}, streamWriter{mu, server, true}
	dir := req.GetInfo().GetProgramDirectory()
	if dir == "" {
		dir = req.GetDirectory() //nolint:staticcheck // older engines only send this
	}
	return tc.InstallDependencies(server.Context(), dir, req.GetUseLanguageVersionTools(), true, stdout, stderr)
}

func (h *host) About(ctx context.Context, req *pulumirpc.AboutRequest) (*pulumirpc.AboutResponse, error) {
	tc, err := resolve(req.GetInfo())
	if err != nil {
		return nil, err
	}
	about, err := tc.About(ctx)
	if err != nil {
		return nil, err
	}
	return &pulumirpc.AboutResponse{
		Executable: about.PythonExecutable,
		Version:    about.PythonVersion.String(),
		Metadata:   map[string]string{"toolchain-version": about.ToolchainVersion.String()},
	}, nil
}

func (h *host) GetProgramDependencies(
	ctx context.Context, req *pulumirpc.GetProgramDependenciesRequest,
) (*pulumirpc.GetProgramDependenciesResponse, error) {
	tc, err := resolve(req.GetInfo())
	if err != nil {
		return nil, err
	}
	pkgs, err := tc.ListPackages(ctx, req.GetTransitiveDependencies())
	if err != nil {
		return nil, err
	}
	resp := &pulumirpc.GetProgramDependenciesResponse{}
	for _, p := range pkgs {
		resp.Dependencies = append(resp.Dependencies, &pulumirpc.DependencyInfo{Name: p.Name, Version: p.Version})
	}
	return resp, nil
}

func (h *host) RuntimeOptionsPrompts(
	context.Context, *pulumirpc.RuntimeOptionsRequest,
) (*pulumirpc.RuntimeOptionsResponse, error) {
	return nil, status.Error(codes.Unimplemented, "runtime option prompts are not supported by this host")
}
