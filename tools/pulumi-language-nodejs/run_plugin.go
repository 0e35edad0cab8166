package main

// RunPlugin: the engine starts plugins written in Node.js through the language host. For a policy pack
// (`pulumi preview --policy-pack DIR`, kind "analyzer") that is @pulumi/pulumi's cmd/run-policy-pack, behind
// the SDK's PolicyProxy as upstream's host does: the engine talks to the proxy first and sends the stack's
// configuration, which the pack receives as PULUMI_CONFIG / PULUMI_NODEJS_STACK … before it starts.

import (
	"errors"
	"fmt"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"time"

	sdk "github.com/pulumi/pulumi/sdk/v3"
	"github.com/pulumi/pulumi/sdk/v3/go/common/apitype"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

// How long a plugin may take to exit after SIGTERM when the engine is done with it, before SIGKILL.
const pluginStopGrace = 5 * time.Second

// serialSender makes the stream's Send safe for the goroutines that copy the child's stdout and stderr: a gRPC
// stream must not be sent on concurrently.
type serialSender struct {
	pulumirpc.LanguageRuntime_RunPluginServer
	mu sync.Mutex
}

func (s *serialSender) Send(resp *pulumirpc.RunPluginResponse) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.LanguageRuntime_RunPluginServer.Send(resp)
}

func (h *languageHost) RunPlugin(
	req *pulumirpc.RunPluginRequest, server pulumirpc.LanguageRuntime_RunPluginServer,
) error {
	ctx := server.Context()
	stream := &serialSender{LanguageRuntime_RunPluginServer: server}
	closer, stdout, stderr, err := rpcutil.MakeRunPluginStreams(stream, false)
	if err != nil {
		return err
	}
	defer closer.Close()

	nodeBin, err := exec.LookPath("node")
	if err != nil {
		return fmt.Errorf("could not find node on the $PATH: %w", err)
	}
	programDir := req.GetInfo().GetProgramDirectory()
	analyzer := req.GetKind() == string(apitype.AnalyzerPlugin)
	entry := "@pulumi/pulumi/cmd/run-plugin"
	if analyzer {
		entry = "@pulumi/pulumi/cmd/run-policy-pack"
	}
	runPath, err := resolveModule(nodeBin, programDir, entry)
	if err != nil {
		return err
	}

	// The engine passes the whole environment the plugin should see (its own plus per-pack additions).
	env := append(append([]string{}, req.GetEnv()...), optionsEnvironment(req.GetInfo())...)

	// run-policy-pack takes `<engine-address> <program>`: the engine's arguments first, the pack's directory last.
	// Other plugins take the directory first (cmd/run-plugin).
	args := []string{runPath}
	if analyzer {
		args = append(append(args, req.GetArgs()...), programDir)
	} else {
		args = append(append(args, programDir), req.GetArgs()...)
	}

	var proxy *sdk.PolicyProxy
	if analyzer {
		// The proxy prints its own port on stdout (the engine's handshake) and waits for the stack's configuration.
		proxy, stdout, err = sdk.NewPolicyProxy(ctx, stdout)
		if err != nil {
			return fmt.Errorf("could not start the policy pack proxy: %w", err)
		}
		config, err := proxy.AwaitConfiguration(ctx)
		if err != nil {
			return fmt.Errorf("could not get the stack configuration for the policy pack: %w", err)
		}
		if env, err = appendStackEnv(env, config); err != nil {
			return err
		}
	}

	cmd := exec.CommandContext(ctx, nodeBin, args...)
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = stdout, stderr
	cmd.Dir = req.GetPwd()
	if analyzer {
		// Policy packs have always run in their own directory (@pulumi/policy reads its package.json from there).
		cmd.Dir = programDir
	}
	// The plugin gets its own process group, and the whole group is stopped when the engine ends the call.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM) }
	cmd.WaitDelay = pluginStopGrace

	if err := cmd.Start(); err != nil {
		if proxy != nil {
			proxy.Abort(err)
		}
		return fmt.Errorf("could not start %s: %w", entry, err)
	}
	if proxy != nil {
		err = proxy.Attach(ctx, cmd) // returns when the pack exits
	} else {
		err = cmd.Wait()
	}

	code := 0
	var exitErr *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exitErr):
		code = exitErr.ExitCode()
		if code < 0 {
			// Killed by a signal: the engine ended the call (or something else stopped the plugin).
			code = 1
		}
	case ctx.Err() != nil:
		// The engine ended the call; nobody reads the answer.
		return nil
	default:
		return fmt.Errorf("running %s: %w", entry, err)
	}
	if err := closer.Close(); err != nil {
		return err
	}
	// The engine reads this as the plugin's exit status ("could not read plugin … exit status N" when it dies early).
	return stream.Send(&pulumirpc.RunPluginResponse{
		Output: &pulumirpc.RunPluginResponse_Exitcode{Exitcode: int32(code)},
	})
}

// appendStackEnv gives a policy pack what the engine told the proxy about the stack, in the variables
// @pulumi/pulumi reads (pulumi.getStack(), new pulumi.Config(), …).
func appendStackEnv(env []string, config *pulumirpc.AnalyzerStackConfigureRequest) ([]string, error) {
	if config == nil {
		return env, nil
	}
	add := func(key, value string) {
		if value != "" {
			env = append(env, key+"="+value)
		}
	}
	add("PULUMI_NODEJS_ORGANIZATION", config.GetOrganization())
	add("PULUMI_NODEJS_PROJECT", config.GetProject())
	add("PULUMI_NODEJS_STACK", config.GetStack())
	add("PULUMI_NODEJS_DRY_RUN", strconv.FormatBool(config.GetDryRun()))
	if config.GetConfig() != nil {
		configEnv, err := configEnvironment(config.GetConfig(), config.GetConfigSecretKeys())
		if err != nil {
			return nil, err
		}
		env = append(env, configEnv...)
	}
	return env, nil
}
