using System.Globalization;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace CoLaR.Checkpoints;

/// <summary>
/// Saves and restores the state of TorchSharp's managed optimizers (AdamW, Adam, SGD, ...) as tensors plus
/// JSON. TorchSharp 0.107 exposes it through <c>OptimizerHelper.state_dict()</c>: one options object per
/// parameter group (learning rate, betas, eps, weight decay, ...) and one state object per parameter, in
/// group order, whose public fields hold the step count and the moment tensors (AdamW: <c>step</c>,
/// <c>exp_avg</c>, <c>exp_avg_sq</c>, <c>max_exp_avg_sq</c> with amsgrad). Its own
/// <c>save_state_dict</c> format is positional and unchecked; here every state is keyed by its
/// parameter's name and checked (type, groups, shapes) before anything is changed. Values are copied in
/// place bit for bit, so a resumed run on CPU continues exactly as an uninterrupted one.
/// </summary>
internal static class OptimizerStateIO
{
    internal const string Prefix = "optimizer/";

    sealed record Slot(string Name, Parameter Parameter, OptimizerState State);

    /// <summary>Tensors to save ("optimizer/{param}/{field}") and the JSON describing groups, options and scalar state.</summary>
    internal static (List<(string Name, Tensor Tensor)> Tensors, string Json) Capture(optim.Optimizer optimizer, nn.Module model)
    {
        var (groups, slots) = Slots(optimizer, model);
        var tensors = new List<(string, Tensor)>();
        var json = new JsonObject
        {
            ["type"] = optimizer.GetType().Name,
            ["groups"] = new JsonArray(groups.Select(g => (JsonNode)new JsonObject
            {
                ["options"] = ScalarsToJson(g.Options, OptionMembers(g.Options.GetType())),
                ["parameters"] = new JsonArray(g.Slots.Select(s => (JsonNode)JsonValue.Create(s.Name)).ToArray()),
            }).ToArray()),
        };
        var states = new JsonObject();
        foreach (var slot in slots)
        {
            var type = slot.State.GetType();
            var saved = new JsonArray();
            foreach (var field in TensorFields(type))
                if (field.GetValue(slot.State) is Tensor t && !t.IsInvalid)
                {
                    tensors.Add((Prefix + slot.Name + "/" + field.Name, t));
                    saved.Add(field.Name);
                }
            var entry = ScalarsToJson(slot.State, ScalarFields(type));
            entry["tensors"] = saved;
            states[slot.Name] = entry;
        }
        json["states"] = states;
        return (tensors, json.ToJsonString());
    }

    /// <summary>Checks saved optimizer state against the optimizer; returns the changes to make, or throws without changing anything.</summary>
    internal static Action Plan(string path, string json, IReadOnlyDictionary<string, Tensor> tensors, optim.Optimizer optimizer, nn.Module model)
    {
        CheckpointException Mismatch(string detail, string? tensor = null) => new(path, detail, CheckpointErrorKind.Mismatch, tensor);
        CheckpointException Bad(string detail) => new(path, $"optimizer state: {detail}", CheckpointErrorKind.Format);

        JsonObject root;
        try { root = JsonNode.Parse(json) as JsonObject ?? throw Bad("not a JSON object"); }
        catch (JsonException e) { throw Bad($"invalid JSON ({e.Message})"); }

        var savedType = Str(root["type"]) ?? throw Bad("no optimizer type");
        if (savedType != optimizer.GetType().Name)
            throw Mismatch($"was saved with optimizer {CheckpointException.Quote(savedType)} but the trainer uses '{optimizer.GetType().Name}'");

        var (groups, slots) = Slots(optimizer, model);
        var savedGroups = root["groups"] as JsonArray ?? throw Bad("no groups");
        if (savedGroups.Count != groups.Count)
            throw Mismatch($"the optimizer had {savedGroups.Count} parameter group(s) when saved but has {groups.Count} now");

        var actions = new List<Action>();
        for (int g = 0; g < groups.Count; g++)
        {
            var savedGroup = savedGroups[g] as JsonObject ?? throw Bad($"group {g} is not an object");
            var savedNames = (savedGroup["parameters"] as JsonArray ?? throw Bad($"group {g} has no parameter list")).Select(Str).ToList();
            var names = groups[g].Slots.Select(s => s.Name).ToList();
            if (!savedNames.SequenceEqual(names))
            {
                var firstDiff = Enumerable.Range(0, Math.Max(names.Count, savedNames.Count))
                    .First(i => i >= names.Count || i >= savedNames.Count || names[i] != savedNames[i]);
                throw Mismatch($"optimizer group {g} held {savedNames.Count} parameters when saved but holds {names.Count} now; " +
                               $"entry {firstDiff} was {Describe(savedNames, firstDiff)} and is {Describe(names, firstDiff)}");
            }
            var options = groups[g].Options;
            var savedOptions = savedGroup["options"] as JsonObject ?? throw Bad($"group {g} has no options");
            actions.Add(PlanScalars(options, OptionMembers(options.GetType()), savedOptions, $"group {g} option", Bad));
        }

        var savedStates = root["states"] as JsonObject ?? throw Bad("no per-parameter states");
        var used = new HashSet<string>(StringComparer.Ordinal);
        foreach (var slot in slots)
        {
            var saved = savedStates[slot.Name] as JsonObject ?? throw Bad($"no state for parameter {CheckpointException.Quote(slot.Name)}");
            var type = slot.State.GetType();
            actions.Add(PlanScalars(slot.State, ScalarFields(type), saved, $"parameter {CheckpointException.Quote(slot.Name)}", Bad));
            foreach (var field in TensorFields(type))
            {
                var key = Prefix + slot.Name + "/" + field.Name;
                var current = field.GetValue(slot.State) as Tensor;
                bool has = tensors.TryGetValue(key, out var stored);
                if (!has)
                {
                    if (current is not null)
                        throw Mismatch($"has no {field.Name} for parameter {CheckpointException.Quote(slot.Name)} but the optimizer keeps one (were its options, such as amsgrad, different when saved?)", key);
                    continue;
                }
                used.Add(key);
                var expectedShape = current?.shape ?? slot.Parameter.shape;
                if (!stored!.shape.SequenceEqual(expectedShape))
                    throw Mismatch($"{field.Name} of parameter {CheckpointException.Quote(slot.Name)} has shape {SafeTensors.ShapeText(stored.shape)} " +
                                   $"but the optimizer's is {SafeTensors.ShapeText(expectedShape)}", key);
                var state = slot.State;
                var parameter = slot.Parameter;
                if (current is not null)
                {
                    actions.Add(() => { using var noGrad = torch.no_grad(); current.copy_(stored); });
                }
                else
                {
                    // A state tensor the optimizer creates lazily (SGD's momentum buffer): give it one of its own.
                    actions.Add(() =>
                    {
                        using var noGrad = torch.no_grad();
                        field.SetValue(state, stored.to(parameter.device).clone().DetachFromDisposeScope());
                    });
                }
            }
        }
        var unexpected = tensors.Keys.Where(k => k.StartsWith(Prefix, StringComparison.Ordinal) && !used.Contains(k)).OrderBy(k => k, StringComparer.Ordinal).FirstOrDefault();
        if (unexpected is not null)
            throw Mismatch($"has optimizer state {CheckpointException.Quote(unexpected)} that matches no parameter of the optimizer", unexpected);
        return () => { foreach (var a in actions) a(); };
    }

    static string Describe(IReadOnlyList<string?> names, int i) => i < names.Count ? CheckpointException.Quote(names[i] ?? "?") : "absent";

    sealed record Group(OptimizerOptions Options, List<Slot> Slots);

    /// <summary>The optimizer's groups and per-parameter states, each parameter named after the model's parameter it is.</summary>
    static (List<Group> Groups, List<Slot> Slots) Slots(optim.Optimizer optimizer, nn.Module model)
    {
        if (optimizer is not OptimizerHelper helper)
            throw new NotSupportedException($"{optimizer.GetType().Name} keeps its state in native code; only TorchSharp's managed optimizers (AdamW, Adam, SGD, ...) can be checkpointed");
        var names = new Dictionary<IntPtr, string>();
        foreach (var (name, p) in model.named_parameters()) names.TryAdd(p.Handle, name);

        var dict = helper.state_dict();
        var groups = new List<Group>();
        var slots = new List<Slot>();
        int index = 0, g = 0;
        foreach (var controller in optimizer.ParamGroups)
        {
            var group = controller as ParamGroup ?? throw new NotSupportedException($"{optimizer.GetType().Name}: parameter group {g} is a {controller.GetType().Name}, not a ParamGroup");
            var groupSlots = new List<Slot>();
            int j = 0;
            foreach (var p in group.Parameters)
            {
                if (index >= dict.State.Count) throw new InvalidOperationException($"{optimizer.GetType().Name}.state_dict() has fewer states than parameters");
                // Parameters outside the model (rare) are named by position, which is stable for a given trainer.
                var name = names.TryGetValue(p.Handle, out var n) ? n : $"#{g}.{j}";
                var slot = new Slot(name, p, dict.State[index++]);
                groupSlots.Add(slot);
                slots.Add(slot);
                j++;
            }
            groups.Add(new Group(group.Options, groupSlots));
            g++;
        }
        var duplicate = slots.GroupBy(s => s.Name).FirstOrDefault(x => x.Count() > 1);
        if (duplicate is not null) throw new InvalidOperationException($"the optimizer holds parameter '{duplicate.Key}' twice");
        return (groups, slots);
    }

    static IEnumerable<FieldInfo> TensorFields(Type type) =>
        type.GetFields(BindingFlags.Public | BindingFlags.Instance).Where(f => typeof(Tensor).IsAssignableFrom(f.FieldType)).OrderBy(f => f.Name, StringComparer.Ordinal);

    static bool IsScalar(Type t)
    {
        t = Nullable.GetUnderlyingType(t) ?? t;
        return t == typeof(double) || t == typeof(float) || t == typeof(long) || t == typeof(int) || t == typeof(bool);
    }

    static IEnumerable<MemberInfo> ScalarFields(Type type) =>
        type.GetFields(BindingFlags.Public | BindingFlags.Instance).Where(f => IsScalar(f.FieldType)).OrderBy(f => f.Name, StringComparer.Ordinal);

    /// <summary>Public scalar fields and read-write properties of an options object (LearningRate, InitialLearningRate, beta1, eps, ...).</summary>
    static IEnumerable<MemberInfo> OptionMembers(Type type) =>
        type.GetFields(BindingFlags.Public | BindingFlags.Instance).Where(f => IsScalar(f.FieldType)).Cast<MemberInfo>()
            .Concat(type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanRead && p.CanWrite && p.GetIndexParameters().Length == 0 && IsScalar(p.PropertyType)))
            .OrderBy(m => m.Name, StringComparer.Ordinal);

    static Type MemberType(MemberInfo m) => m is FieldInfo f ? f.FieldType : ((PropertyInfo)m).PropertyType;
    static object? GetValue(MemberInfo m, object o) => m is FieldInfo f ? f.GetValue(o) : ((PropertyInfo)m).GetValue(o);
    static void SetValue(MemberInfo m, object o, object? v) { if (m is FieldInfo f) f.SetValue(o, v); else ((PropertyInfo)m).SetValue(o, v); }

    /// <summary>Scalars as exact strings ("R" for doubles): JSON numbers cannot hold NaN and lose nothing this way.</summary>
    static JsonObject ScalarsToJson(object owner, IEnumerable<MemberInfo> members)
    {
        var json = new JsonObject();
        foreach (var m in members)
            json[m.Name] = GetValue(m, owner) switch
            {
                null => null,
                double d => d.ToString("R", CultureInfo.InvariantCulture),
                float f => f.ToString("R", CultureInfo.InvariantCulture),
                bool b => b ? "true" : "false",
                IFormattable x => x.ToString(null, CultureInfo.InvariantCulture),
                var other => other.ToString(),
            };
        return json;
    }

    static Action PlanScalars(object owner, IEnumerable<MemberInfo> members, JsonObject saved, string what, Func<string, CheckpointException> bad)
    {
        var sets = new List<(MemberInfo Member, object? Value)>();
        foreach (var m in members)
        {
            if (!saved.TryGetPropertyValue(m.Name, out var node))
                throw bad($"{what} '{m.Name}' was not saved");
            var type = MemberType(m);
            var underlying = Nullable.GetUnderlyingType(type);
            if (node is null)
            {
                if (underlying is null) throw bad($"{what} '{m.Name}' is null but must have a value");
                sets.Add((m, null));
                continue;
            }
            var text = Str(node) ?? throw bad($"{what} '{m.Name}' is not a string");
            var target = underlying ?? type;
            object? value = target switch
            {
                _ when target == typeof(double) => double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) ? d : null,
                _ when target == typeof(float) => float.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var f) ? f : null,
                _ when target == typeof(long) => long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var l) ? l : null,
                _ when target == typeof(int) => int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var i) ? i : null,
                _ when target == typeof(bool) => text switch { "true" => true, "false" => false, _ => null },
                _ => null,
            };
            if (value is null) throw bad($"{what} '{m.Name}' = {CheckpointException.Quote(text)} is not a {target.Name}");
            sets.Add((m, value));
        }
        return () => { foreach (var (m, v) in sets) SetValue(m, owner, v); };
    }

    static string? Str(JsonNode? node) => node is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;
}
