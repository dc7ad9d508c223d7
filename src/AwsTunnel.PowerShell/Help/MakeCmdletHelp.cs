// Compiled by MSBuild's RoslynCodeTaskFactory (see Help.targets); not part of the module.
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Xml.Linq;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

/// <summary>
/// Writes MAML help for every cmdlet in an assembly: names, syntax and parameter metadata
/// from the assembly (read with MetadataLoadContext), text from its XML documentation file
/// (the XmlDoc2CmdletDoc conventions: para type="synopsis"/"description", example with code
/// and para).
/// </summary>
public sealed class MakeCmdletHelp : Task
{
    private static readonly XNamespace Msh = "http://msh";
    private static readonly XNamespace Maml = "http://schemas.microsoft.com/maml/2004/10";
    private static readonly XNamespace Command = "http://schemas.microsoft.com/maml/dev/command/2004/10";
    private static readonly XNamespace Dev = "http://schemas.microsoft.com/maml/dev/2004/10";
    private const string Sma = "System.Management.Automation.";

    [Required] public string AssemblyPath { get; set; }
    [Required] public string DocumentationPath { get; set; }
    [Required] public string ReferenceDirectory { get; set; }
    [Required] public string OutputPath { get; set; }
    /// <summary>MSBuild's directory, which holds System.Reflection.MetadataLoadContext.dll.</summary>
    [Required] public string ToolsPath { get; set; }

    public override bool Execute()
    {
        var paths = Directory.GetFiles(RuntimeEnvironment.GetRuntimeDirectory(), "*.dll")
            .Concat(Directory.GetFiles(ReferenceDirectory, "*.dll"))
            .Append(AssemblyPath)
            .GroupBy(Path.GetFileName, StringComparer.OrdinalIgnoreCase)
            .Select(g => g.Last());
        // MetadataLoadContext ships with MSBuild but is built for .NET, and inline tasks compile
        // against netstandard: create it by reflection; what it returns is plain System.Reflection.
        var loader = System.Reflection.Assembly.LoadFrom(Path.Combine(ToolsPath, "System.Reflection.MetadataLoadContext.dll"));
        var resolver = Activator.CreateInstance(loader.GetType("System.Reflection.PathAssemblyResolver", true), new object[] { paths.ToList() });
        var contextType = loader.GetType("System.Reflection.MetadataLoadContext", true);
        using (var context = (IDisposable)Activator.CreateInstance(contextType, resolver, null))
        {
            var assembly = (Assembly)contextType.GetMethod("LoadFromAssemblyPath").Invoke(context, new object[] { AssemblyPath });
            var docs = XDocument.Load(DocumentationPath).Descendants("member")
                .ToDictionary(m => (string)m.Attribute("name"), m => m);
            var commands = assembly.GetExportedTypes()
                .Select(t => (Type: t, Cmdlet: Attribute(t.GetCustomAttributesData(), "CmdletAttribute")))
                .Where(c => c.Cmdlet != null && !c.Type.IsAbstract)
                .OrderBy(c => Noun(c.Cmdlet), StringComparer.Ordinal).ThenBy(c => Verb(c.Cmdlet), StringComparer.Ordinal)
                .Select(c => CommandHelp(c.Type, c.Cmdlet, docs))
                .ToList();
            if (Log.HasLoggedErrors)
            {
                return false;
            }

            var help = new XDocument(new XElement(Msh + "helpItems", new XAttribute("schema", "maml"),
                new XAttribute(XNamespace.Xmlns + "maml", Maml), new XAttribute(XNamespace.Xmlns + "command", Command),
                new XAttribute(XNamespace.Xmlns + "dev", Dev), commands));
            Directory.CreateDirectory(Path.GetDirectoryName(OutputPath));
            help.Save(OutputPath);
            Log.LogMessage(MessageImportance.Normal, "Help for {0} cmdlets -> {1}", commands.Count, OutputPath);
        }

        return true;
    }

    private XElement CommandHelp(Type type, CustomAttributeData cmdlet, Dictionary<string, XElement> docs)
    {
        string verb = Verb(cmdlet), noun = Noun(cmdlet), name = verb + "-" + noun;
        docs.TryGetValue("T:" + type.FullName, out var doc);
        var summary = doc?.Element("summary");
        string synopsis = Paras(summary, "synopsis").FirstOrDefault();
        var description = Paras(summary, "description").ToList();
        var examples = doc?.Elements("example").ToList() ?? new List<XElement>();
        if (synopsis == null || description.Count == 0 || examples.Count < 2)
        {
            Log.LogError("{0} ({1}) needs a <para type=\"synopsis\">, a <para type=\"description\"> and at least two <example> in its XML doc comment.", name, type.FullName);
        }

        var parameters = Parameters(type, docs, name).ToList();
        if (Named(cmdlet, "SupportsShouldProcess") is true)
        {
            parameters.Add(new Param("WhatIf", "SwitchParameter", "Shows what would happen if the cmdlet runs. The cmdlet is not run.", null, new string[0],
                new[] { new Binding("__AllParameterSets", false, null, null) }));
            parameters.Add(new Param("Confirm", "SwitchParameter", "Prompts you for confirmation before running the cmdlet.", null, new[] { "cf" },
                new[] { new Binding("__AllParameterSets", false, null, null) }));
        }

        var sets = parameters.SelectMany(p => p.Bindings.Select(b => b.Set)).Where(s => s != "__AllParameterSets").Distinct().ToList();
        if (sets.Count == 0)
        {
            sets.Add("__AllParameterSets");
        }

        var outputs = type.GetCustomAttributesData().Where(a => a.AttributeType.Name == "OutputTypeAttribute")
            .SelectMany(a => a.ConstructorArguments).SelectMany(Values).OfType<Type>().Select(t => t.FullName).ToList();

        return new XElement(Command + "command",
            new XElement(Command + "details",
                new XElement(Command + "name", name),
                new XElement(Command + "verb", verb),
                new XElement(Command + "noun", noun),
                new XElement(Maml + "description", Para(synopsis))),
            new XElement(Maml + "description", description.Select(Para)),
            new XElement(Command + "syntax", sets.Select(set => new XElement(Command + "syntaxItem",
                new XElement(Maml + "name", name),
                parameters.Where(p => p.In(set)).OrderBy(p => p.Binding(set).Position ?? int.MaxValue)
                    .Select(p => ParameterElement(p, p.Binding(set)))))),
            new XElement(Command + "parameters", parameters.Select(p => ParameterElement(p, p.Bindings[0]))),
            new XElement(Command + "inputTypes", parameters.Where(p => p.Bindings.Any(b => b.Pipeline != null)).Select(p =>
                new XElement(Command + "inputType", new XElement(Dev + "type", new XElement(Maml + "name", p.TypeName)),
                    new XElement(Maml + "description", Para($"-{p.Name}: {p.Bindings.First(b => b.Pipeline != null).Pipeline}"))))),
            new XElement(Command + "returnValues", outputs.Select(o =>
                new XElement(Command + "returnValue", new XElement(Dev + "type", new XElement(Maml + "name", o))))),
            new XElement(Command + "examples", examples.Select((e, i) => new XElement(Command + "example",
                new XElement(Maml + "title", $"-------------------------- Example {i + 1} --------------------------"),
                new XElement(Dev + "code", Text(e.Element("code"))),
                new XElement(Dev + "remarks", e.Elements("para").Select(p => Para(Text(p))))))));
    }

    private IEnumerable<Param> Parameters(Type type, Dictionary<string, XElement> docs, string commandName)
    {
        foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            var attributes = property.GetCustomAttributesData();
            var bindings = attributes.Where(a => a.AttributeType.FullName == Sma + "ParameterAttribute").Select(a => new Binding(
                    Named(a, "ParameterSetName") as string ?? "__AllParameterSets",
                    Named(a, "Mandatory") is true,
                    Named(a, "Position") is int position && position >= 0 ? position : (int?)null,
                    Pipeline(Named(a, "ValueFromPipeline") is true, Named(a, "ValueFromPipelineByPropertyName") is true),
                    Named(a, "DontShow") is true))
                .ToList();
            if (bindings.Count == 0 || bindings.All(b => b.Hidden))
            {
                continue;
            }

            docs.TryGetValue($"P:{property.DeclaringType.FullName}.{property.Name}", out var doc);
            string description = string.Join(" ", Paras(doc?.Element("summary"), "description"));
            if (description.Length == 0)
            {
                Log.LogError("Parameter -{0} of {1} needs a <para type=\"description\"> in its XML doc comment.", property.Name, commandName);
            }

            var aliases = attributes.Where(a => a.AttributeType.FullName == Sma + "AliasAttribute")
                .SelectMany(a => a.ConstructorArguments).SelectMany(Values).OfType<string>().ToArray();
            bool wildcards = attributes.Any(a => a.AttributeType.FullName == Sma + "SupportsWildcardsAttribute");
            yield return new Param(property.Name, TypeName(property.PropertyType), description, wildcards ? "true" : null, aliases, bindings);
        }
    }

    private static XElement ParameterElement(Param p, Binding b) =>
        new XElement(Command + "parameter",
            new XAttribute("required", b.Mandatory ? "true" : "false"),
            new XAttribute("variableLength", p.TypeName.EndsWith("[]") ? "true" : "false"),
            new XAttribute("globbing", p.Globbing ?? "false"),
            new XAttribute("pipelineInput", b.Pipeline ?? "False"),
            new XAttribute("position", b.Position?.ToString() ?? "named"),
            new XAttribute("aliases", p.Aliases.Length == 0 ? "none" : string.Join(", ", p.Aliases)),
            new XElement(Maml + "name", p.Name),
            new XElement(Maml + "description", Para(p.Description)),
            p.TypeName == "SwitchParameter" ? null : new XElement(Command + "parameterValue", new XAttribute("required", "true"), new XAttribute("variableLength", "false"), p.TypeName),
            new XElement(Dev + "type", new XElement(Maml + "name", p.TypeName), new XElement(Maml + "uri")),
            new XElement(Dev + "defaultValue", "None"));

    private static string Pipeline(bool byValue, bool byName) =>
        byValue && byName ? "True (ByPropertyName, ByValue)" : byValue ? "True (ByValue)" : byName ? "True (ByPropertyName)" : null;

    private static string TypeName(Type type)
    {
        if (type.IsArray)
        {
            return TypeName(type.GetElementType()) + "[]";
        }

        if (type.IsGenericType && type.GetGenericTypeDefinition().FullName == "System.Nullable`1")
        {
            return TypeName(type.GetGenericArguments()[0]);
        }

        return type.Namespace == "System" || type.Namespace == "System.Management.Automation" ? type.Name : type.FullName;
    }

    private static CustomAttributeData Attribute(IEnumerable<CustomAttributeData> attributes, string name) =>
        attributes.FirstOrDefault(a => a.AttributeType.FullName == Sma + name);

    private static object Named(CustomAttributeData attribute, string name) =>
        attribute.NamedArguments.Where(a => a.MemberName == name).Select(a => a.TypedValue.Value).FirstOrDefault();

    private static IEnumerable<object> Values(CustomAttributeTypedArgument argument) =>
        argument.Value is IEnumerable<CustomAttributeTypedArgument> items ? items.Select(i => i.Value) : new[] { argument.Value };

    private static string Verb(CustomAttributeData cmdlet) => (string)cmdlet.ConstructorArguments[0].Value;

    private static string Noun(CustomAttributeData cmdlet) => (string)cmdlet.ConstructorArguments[1].Value;

    private static IEnumerable<string> Paras(XElement summary, string kind) =>
        summary?.Elements("para").Where(p => (string)p.Attribute("type") == kind).Select(Text) ?? Enumerable.Empty<string>();

    private static XElement Para(string text) => new XElement(Maml + "para", text ?? string.Empty);

    /// <summary>The element's text with the doc comment's indentation removed, line breaks kept.</summary>
    private static string Text(XElement element)
    {
        if (element == null)
        {
            return string.Empty;
        }

        var lines = string.Concat(element.Nodes().Select(n => n is XElement e ? (string)e.Attribute("cref") ?? e.Value : n.ToString()))
            .Replace("&lt;", "<").Replace("&gt;", ">").Replace("&amp;", "&")
            .Split('\n').Select(l => l.TrimEnd('\r').Trim()).ToList();
        return string.Join("\n", lines.SkipWhile(l => l.Length == 0).Reverse().SkipWhile(l => l.Length == 0).Reverse());
    }

    private sealed class Param
    {
        public Param(string name, string typeName, string description, string globbing, string[] aliases, IList<Binding> bindings)
        {
            Name = name; TypeName = typeName; Description = description; Globbing = globbing; Aliases = aliases; Bindings = bindings;
        }

        public string Name { get; }
        public string TypeName { get; }
        public string Description { get; }
        public string Globbing { get; }
        public string[] Aliases { get; }
        public IList<Binding> Bindings { get; }

        public bool In(string set) => Bindings.Any(b => b.Set == set || b.Set == "__AllParameterSets");

        public Binding Binding(string set) => Bindings.FirstOrDefault(b => b.Set == set) ?? Bindings.First(b => b.Set == "__AllParameterSets");
    }

    private sealed class Binding
    {
        public Binding(string set, bool mandatory, int? position, string pipeline, bool hidden = false)
        {
            Set = set; Mandatory = mandatory; Position = position; Pipeline = pipeline; Hidden = hidden;
        }

        public string Set { get; }
        public bool Mandatory { get; }
        public int? Position { get; }
        public string Pipeline { get; }
        public bool Hidden { get; }
    }
}
