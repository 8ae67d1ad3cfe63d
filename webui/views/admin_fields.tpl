% for f in fields:
<div class="field{{' has-error' if f.errors else ''}}" data-field="{{f.name}}">
% if f.widget == 'checkbox':
<label><input type="checkbox" name="{{f.name}}" id="f-{{f.name}}" value="1" {{'checked' if f.value else ''}} {{'disabled' if disabled else ''}}> {{_(f.label)}}</label>
% elif f.widget == 'select':
<label>{{_(f.label)}} <select name="{{f.name}}" id="f-{{f.name}}" {{'disabled' if disabled else ''}}>
% for c in f.choices:
<option value="{{c}}" {{'selected' if f.value == c else ''}}>{{c}}</option>
% end
</select></label>
% elif f.widget == 'rows':
<fieldset><legend>{{_(f.label)}}</legend>
<table class="rows" id="f-{{f.name}}">
<thead><tr>
% for col in f.columns:
<th>{{_(col.label)}}</th>
% end
</tr></thead><tbody>
% for i, row in enumerate(f.value):
<tr>
% for col in f.columns:
% cname = col.name.replace('{row}', str(i))
% sub = cname.rsplit('.', 1)[1]
<td>
% if col.widget == 'checkbox':
<input type="checkbox" name="{{cname}}" value="1" {{'checked' if row.get(sub) else ''}} {{'disabled' if disabled else ''}}>
% elif col.widget == 'select':
<select name="{{cname}}" {{'disabled' if disabled else ''}}><option value=""></option>
% for c in col.choices:
<option value="{{c}}" {{'selected' if row.get(sub) == c else ''}}>{{c}}</option>
% end
</select>
% else:
<input name="{{cname}}" id="f-{{cname.replace('.', '-')}}" value="{{row.get(sub, '')}}" {{'disabled' if disabled else ''}}>
% end
</td>
% end
</tr>
% end
</tbody></table>
</fieldset>
% else:
<label>{{_(f.label)}}{{' *' if f.required else ''}} <input name="{{f.name}}" id="f-{{f.name}}" value="{{f.value}}" {{'inputmode=decimal' if f.widget == 'number' else ''}} {{'disabled' if disabled else ''}}></label>
% end
% if f.hint:
<small class="hint">{{_(f.hint)}}</small>
% end
% for e in f.errors:
<p class="error field-error" role="alert">{{e}}</p>
% end
</div>
% end
