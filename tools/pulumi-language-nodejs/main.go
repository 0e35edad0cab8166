// pulumi-language-nodejs is a minimal Node.js language host for the Pulumi CLI.
//
// Pulumi's own host lives in the module github.com/pulumi/pulumi/sdk/nodejs/cmd/pulumi-language-nodejs/v3, which
// the Go module proxy reachable from offline machines does not serve. This host implements the part of the
// LanguageRuntime protocol that `pulumi up/preview/refresh/destroy` of an installed Node.js project needs: it starts
// @pulumi/pulumi's own `cmd/run` entry point (the same one upstream's host starts) with the same arguments and
// environment. It also runs plugins written in Node.js (RunPlugin), which is how the engine starts a CrossGuard policy
// pack (`pulumi preview --policy-pack DIR`): see run_plugin.go. Dependency installation and code generation are
// left to npm and upstream's host. A CLI installed the official way ships upstream's host, and
// scripts/toolchain.sh then never builds this one.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"

	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/structpb"
)

// Exit code with which @pulumi/pulumi's cmd/run says "the error was already reported to the user".
const exitAfterUserActionableMessage = 32

// Version reported to the engine; scripts/toolchain.sh sets it to the CLI version at build time.
var version = "v3.0.0"

func main() {
	tracing := flag.String("tracing", "", "Emit tracing to a Zipkin-compatible tracing endpoint (accepted, unused)")
	flag.String("root", "", "Project root directory (accepted; the handshake supplies it)")
	// -logtostderr and -v, which the engine also passes, are registered by the SDK's logging package.
	flag.Parse()

	host := &languageHost{tracing: *tracing}
	if args := flag.Args(); len(args) > 0 {
		host.engineAddress = args[0]
	}

	handle, err := rpcutil.ServeWithOptions(rpcutil.ServeOptions{
		Init: func(srv *grpc.Server) error {
			pulumirpc.RegisterLanguageRuntimeServer(srv, host)
			return nil
		},
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "pulumi-language-nodejs: could not start the RPC server: %v\n", err)
		os.Exit(1)
	}
	// The engine reads the port from our first line of output.
	fmt.Printf("%d\n", handle.Port)
	if err := <-handle.Done; err != nil {
		fmt.Fprintf(os.Stderr, "pulumi-language-nodejs: RPC server stopped: %v\n", err)
		os.Exit(1)
	}
}

type languageHost struct {
	pulumirpc.UnimplementedLanguageRuntimeServer

	mu            sync.Mutex
	engineAddress string
	tracing       string
}

func (h *languageHost) Handshake(
	_ context.Context, req *pulumirpc.LanguageHandshakeRequest,
) (*pulumirpc.LanguageHandshakeResponse, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if req.GetEngineAddress() != "" {
		h.engineAddress = req.GetEngineAddress()
	}
	return &pulumirpc.LanguageHandshakeResponse{}, nil
}

func (h *languageHost) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: version}, nil
}

// Plugins come from the machine (ambient) or `pulumi plugin install`; automatic acquisition is off offline.
func (h *languageHost) GetRequiredPlugins(
	context.Context, *pulumirpc.GetRequiredPluginsRequest,
) (*pulumirpc.GetRequiredPluginsResponse, error) {
	return &pulumirpc.GetRequiredPluginsResponse{}, nil
}

func (h *languageHost) GetRequiredPackages(
	context.Context, *pulumirpc.GetRequiredPackagesRequest,
) (*pulumirpc.GetRequiredPackagesResponse, error) {
	return &pulumirpc.GetRequiredPackagesResponse{}, nil
}

// Dependencies are installed by `npm ci` (scripts/toolchain.sh), so there is nothing to do here.
func (h *languageHost) InstallDependencies(
	*pulumirpc.InstallDependenciesRequest, grpc.ServerStreamingServer[pulumirpc.InstallDependenciesResponse],
) error {
	return nil
}

func (h *languageHost) About(context.Context, *pulumirpc.AboutRequest) (*pulumirpc.AboutResponse, error) {
	nodeBin, err := exec.LookPath("node")
	if err != nil {
		return nil, fmt.Errorf("could not find node on the $PATH: %w", err)
	}
	out, err := exec.Command(nodeBin, "--version").Output()
	if err != nil {
		return nil, fmt.Errorf("running node --version: %w", err)
	}
	return &pulumirpc.AboutResponse{Executable: nodeBin, Version: strings.TrimSpace(string(out))}, nil
}

func (h *languageHost) Run(_ context.Context, req *pulumirpc.RunRequest) (*pulumirpc.RunResponse, error) {
	nodeBin, err := exec.LookPath("node")
	if err != nil {
		return nil, fmt.Errorf("could not find node on the $PATH: %w", err)
	}
	programDir := req.GetInfo().GetProgramDirectory()
	if programDir == "" {
		programDir = req.GetPwd()
	}
	runPath, err := resolveModule(nodeBin, programDir, "@pulumi/pulumi/cmd/run")
	if err != nil {
		return nil, err
	}
	env, err := h.environment(req)
	if err != nil {
		return nil, err
	}

	cmd := exec.Command(nodeBin, h.arguments(req, runPath)...)
	cmd.Dir = req.GetPwd()
	cmd.Stdout = os.Stdout
	cmd.Stderr = os.Stderr
	cmd.Env = env
	if err := cmd.Run(); err != nil {
		var exitErr *exec.ExitError
		if errors.As(err, &exitErr) {
			if status, ok := exitErr.Sys().(syscall.WaitStatus); ok {
				if status.ExitStatus() == exitAfterUserActionableMessage {
					return &pulumirpc.RunResponse{Bail: true}, nil
				}
				return &pulumirpc.RunResponse{
					Error: fmt.Sprintf("Program exited with non-zero exit code: %d", status.ExitStatus()),
				}, nil
			}
		}
		return &pulumirpc.RunResponse{Error: fmt.Sprintf("Problem executing program: %v", err)}, nil
	}
	return &pulumirpc.RunResponse{}, nil
}

// resolveModule finds one of @pulumi/pulumi's entry points (cmd/run, cmd/run-policy-pack, …) from a program's
// directory, as Node would.
func resolveModule(nodeBin, programDir, module string) (string, error) {
	cmd := exec.Command(nodeBin, "-e", "process.stdout.write(require.resolve(process.argv[1]))", module)
	cmd.Dir = programDir
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf(
			"could not find %s from %s; has `npm install` been run? (%v)", module, programDir, err)
	}
	return string(out), nil
}

func (h *languageHost) arguments(req *pulumirpc.RunRequest, runPath string) []string {
	h.mu.Lock()
	engine := h.engineAddress
	h.mu.Unlock()

	args := []string{runPath}
	add := func(flag, value string) {
		if value != "" {
			args = append(args, "--"+flag, value)
		}
	}
	add("monitor", req.GetMonitorAddress())
	add("engine", engine)
	add("organization", req.GetOrganization())
	add("project", req.GetProject())
	add("stack", req.GetStack())
	add("pwd", req.GetPwd())
	add("root-directory", req.GetInfo().GetRootDirectory())
	if req.GetDryRun() {
		args = append(args, "--dry-run")
	}
	if req.GetQueryMode() {
		args = append(args, "--query-mode")
	}
	add("parallel", fmt.Sprint(req.GetParallel()))
	add("tracing", h.tracing)

	entry := req.GetInfo().GetEntryPoint()
	if entry == "" {
		entry = req.GetProgram()
	}
	if entry == "" {
		// "." lets Node load the package's "main" (index.ts/index.js by default).
		entry = "."
	}
	args = append(args, entry)
	return append(args, req.GetArgs()...)
}

func (h *languageHost) environment(req *pulumirpc.RunRequest) ([]string, error) {
	configEnv, err := configEnvironment(req.GetConfig(), req.GetConfigSecretKeys())
	if err != nil {
		return nil, err
	}
	env := append(os.Environ(), configEnv...)
	return append(env, optionsEnvironment(req.GetInfo())...), nil
}

// optionsEnvironment: Pulumi.yaml's (or PulumiPolicy.yaml's) `runtime.options` as @pulumi/pulumi reads them.
func optionsEnvironment(info *pulumirpc.ProgramInfo) []string {
	options := programOptions(info.GetOptions())
	env := []string{fmt.Sprintf("PULUMI_NODEJS_TYPESCRIPT=%t", options.typescript)}
	if options.tsconfig != "" {
		env = append(env, "PULUMI_NODEJS_TSCONFIG_PATH="+filepath.Join(info.GetProgramDirectory(), options.tsconfig))
	}
	return env
}

// configEnvironment: the stack configuration as @pulumi/pulumi reads it, PULUMI_CONFIG (a JSON object) and
// PULUMI_CONFIG_SECRET_KEYS (a JSON array).
func configEnvironment(config map[string]string, secretKeys []string) ([]string, error) {
	if config == nil {
		config = map[string]string{}
	}
	configJSON, err := json.Marshal(config)
	if err != nil {
		return nil, fmt.Errorf("serializing configuration: %w", err)
	}
	if secretKeys == nil {
		secretKeys = []string{}
	}
	secretKeysJSON, err := json.Marshal(secretKeys)
	if err != nil {
		return nil, fmt.Errorf("serializing secret configuration keys: %w", err)
	}
	return []string{"PULUMI_CONFIG=" + string(configJSON), "PULUMI_CONFIG_SECRET_KEYS=" + string(secretKeysJSON)}, nil
}

type nodeOptions struct {
	typescript bool
	tsconfig   string
}

// programOptions reads Pulumi.yaml's `runtime.options` (typescript defaults to true, as upstream).
func programOptions(s *structpb.Struct) nodeOptions {
	opts := nodeOptions{typescript: true}
	if s == nil {
		return opts
	}
	fields := s.GetFields()
	if v, ok := fields["typescript"]; ok {
		if b, isBool := v.GetKind().(*structpb.Value_BoolValue); isBool {
			opts.typescript = b.BoolValue
		}
	}
	if v, ok := fields["tsconfig"]; ok {
		opts.tsconfig = v.GetStringValue()
	}
	return opts
}
