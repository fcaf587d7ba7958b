package stack

// How the lab treats a compose key.
type treatment int

const (
	// applied keys take effect as `docker compose up` applies them.
	applied treatment = iota
	// ignored keys are read and deliberately not applied, for the reason
	// given: the lab's own rule takes their place.
	ignored
	// refused keys stop the run before anything is built, with a message
	// naming the key, the service and the file.
	refused
)

type keyRule struct {
	how treatment
	why string
}

const (
	noHost     = "a graded service gets no host access"
	limitsRule = "the lab's policy sets every container's memory, CPU and process limits, the same for every fork"
	oneNet     = "graded services run on the lab's own network, which has no route out"
)

// serviceKeys is every service key the lab knows. A key that is set and
// not listed is refused, so that nothing a fork writes is dropped
// silently, also when compose-go learns a new key. The README's table is
// this one; TestKeysTableInReadme keeps them together.
var serviceKeys = map[string]keyRule{
	"build":             {applied, "context, dockerfile, args and target; see build keys"},
	"command":           {applied, ""},
	"entrypoint":        {applied, ""},
	"environment":       {applied, "a variable with no value stays unset: the grader's environment is not the fork's"},
	"env_file":          {applied, "files inside the graded folder only"},
	"image":             {applied, "run when there is no build; with a build, the lab tags the image with a name of its own"},
	"ports":             {applied, "the container port; the host port is chosen by the lab so that forks never collide"},
	"expose":            {applied, ""},
	"volumes":           {applied, "named and anonymous volumes become Docker volumes removed with the lab, tmpfs an in-memory folder; host folders are refused"},
	"tmpfs":             {applied, ""},
	"depends_on":        {applied, "start order and condition (service_started, service_healthy, service_completed_successfully)"},
	"healthcheck":       {applied, "Docker runs it; the report shows it next to what the lab measured"},
	"working_dir":       {applied, ""},
	"user":              {applied, ""},
	"hostname":          {applied, ""},
	"init":              {applied, ""},
	"labels":            {applied, "the lab's own labels win"},
	"extra_hosts":       {applied, "host-gateway is refused"},
	"profiles":          {applied, "services of a profile that is not active do not run, as in compose with no --profile"},
	"networks":          {ignored, "every service joins the one lab network under its service name; " + oneNet},
	"read_only":         {ignored, "the lab always runs a read-only root filesystem"},
	"cap_drop":          {ignored, "the lab always drops every capability"},
	"restart":           {ignored, "the lab never restarts a service: a crash is a finding"},
	"container_name":    {ignored, "the lab names containers so that runs never collide"},
	"deploy":            {ignored, "resources: " + limitsRule + "; replicas other than 1 are refused"},
	"scale":             {ignored, "1 is the lab's; any other value is refused"},
	"mem_limit":         {ignored, limitsRule},
	"memswap_limit":     {ignored, limitsRule},
	"mem_reservation":   {ignored, limitsRule},
	"cpus":              {ignored, limitsRule},
	"cpu_shares":        {ignored, limitsRule},
	"cpu_quota":         {ignored, limitsRule},
	"cpu_period":        {ignored, limitsRule},
	"cpuset":            {ignored, limitsRule},
	"pids_limit":        {ignored, limitsRule},
	"logging":           {ignored, "the lab keeps each log to its own budget"},
	"stop_grace_period": {ignored, "the lab stops every container the same way when the run ends"},
	"stop_signal":       {ignored, "the lab stops every container the same way when the run ends"},
	"pull_policy":       {ignored, "nothing is pulled: images are built or must be on the machine"},
	"platform":          {ignored, "images run on the grader's platform"},
	"develop":           {ignored, "compose watch is for development, not grading"},
	"stdin_open":        {ignored, "nobody types into a graded service"},
	"tty":               {ignored, "nobody types into a graded service"},
	"attach":            {ignored, "the lab reads every service's log"},
	"annotations":       {ignored, "metadata only"},
	"dns":               {ignored, "the lab network has no route out, so there is no DNS server to choose"},
	"dns_opt":           {ignored, "the lab network has no route out"},
	"dns_search":        {ignored, "the lab network has no route out"},
	"domainname":        {ignored, "metadata only"},
	"mac_address":       {ignored, "the lab network assigns addresses"},

	"privileged":          {refused, noHost},
	"cap_add":             {refused, "graded services run with all capabilities dropped"},
	"devices":             {refused, noHost},
	"device_cgroup_rules": {refused, noHost},
	"gpus":                {refused, noHost},
	"network_mode":        {refused, oneNet},
	"pid":                 {refused, noHost},
	"ipc":                 {refused, noHost},
	"uts":                 {refused, noHost},
	"userns_mode":         {refused, noHost},
	"cgroup":              {refused, noHost},
	"cgroup_parent":       {refused, noHost},
	"security_opt":        {refused, "the lab sets no-new-privileges and the engine's default profiles"},
	"sysctls":             {refused, noHost},
	"ulimits":             {refused, limitsRule},
	"oom_kill_disable":    {refused, limitsRule},
	"oom_score_adj":       {refused, limitsRule},
	"shm_size":            {refused, limitsRule},
	"blkio_config":        {refused, limitsRule},
	"cpu_count":           {refused, limitsRule},
	"cpu_percent":         {refused, limitsRule},
	"cpu_rt_period":       {refused, limitsRule},
	"cpu_rt_runtime":      {refused, limitsRule},
	"mem_swappiness":      {refused, limitsRule},
	"storage_opt":         {refused, noHost},
	"volume_driver":       {refused, "volume drivers can mount the grader's folders"},
	"volumes_from":        {refused, "not supported: every service has its own volumes"},
	"runtime":             {refused, noHost},
	"isolation":           {refused, noHost},
	"use_api_socket":      {refused, "it hands the service the grader's Docker engine"},
	"secrets":             {refused, "secrets read the grader's files or environment"},
	"configs":             {refused, "configs read the grader's files or environment"},
	"credential_spec":     {refused, noHost},
	"external_links":      {refused, oneNet},
	"links":               {refused, "not supported: services reach each other by service name"},
	"group_add":           {refused, noHost},
	"label_file":          {refused, "not supported: it reads files the lab does not check"},
	"umask":               {refused, "not supported"},
	"models":              {refused, "the lab runs no model runner"},
	"provider":            {refused, "provider services run programs on the grader's machine"},
	"post_start":          {refused, "lifecycle hooks are not supported"},
	"pre_stop":            {refused, "lifecycle hooks are not supported"},
	"pre_start":           {refused, "lifecycle hooks are not supported"},
	"pull_refresh_after":  {ignored, "nothing is pulled"},
	"extends":             {applied, "files inside the graded folder only"},
	"dockerfile":          {refused, "not supported: put dockerfile under build"},
	"oom_kill":            {refused, limitsRule},
	"net":                 {refused, oneNet},
}

// buildKeys is every key of a service's build section the lab knows.
var buildKeys = map[string]keyRule{
	"context":    {applied, "inside the graded folder unless the policy sets allow_outside_context"},
	"dockerfile": {applied, ""},
	"args":       {applied, ""},
	"target":     {applied, ""},
	"labels":     {ignored, "metadata only"},
	"tags":       {ignored, "the lab tags images with names of its own and removes them after the run"},
	"cache_from": {ignored, "the lab's builds use the engine's local cache only"},
	"cache_to":   {ignored, "the lab's builds use the engine's local cache only"},
	"no_cache":   {ignored, "the engine's cache only speeds a build up"},
	"pull":       {ignored, "nothing is pulled"},
	"platforms":  {ignored, "images are built for the grader's platform"},
	"provenance": {ignored, "metadata only"},
	"sbom":       {ignored, "metadata only"},

	"dockerfile_inline":   {refused, "the lab builds from a Dockerfile in the graded folder"},
	"additional_contexts": {refused, "a build reads its one context only"},
	"network":             {refused, "image builds have no network"},
	"ssh":                 {refused, "it hands the build the grader's SSH agent or keys"},
	"secrets":             {refused, "build secrets read the grader's files or environment"},
	"extra_hosts":         {refused, "image builds have no network"},
	"privileged":          {refused, noHost},
	"entitlements":        {refused, noHost},
	"isolation":           {refused, noHost},
	"shm_size":            {refused, limitsRule},
	"ulimits":             {refused, limitsRule},
	"no_cache_filter":     {ignored, "the engine's cache only speeds a build up"},
}
